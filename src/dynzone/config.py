"""The configuration file (TOML), checked key by key.

This module only reads the file: the settings it builds are defined where
they are used (``engine/settings.py`` per zone, ``dns/settings.py``,
``http/settings.py``), so nothing else depends on the file's layout. Every
mistake a user can make here ends in one ``ConfigError`` whose message
names the file and the key (or the zone file and line), never a traceback.
Paths in the file are relative to the file itself.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.exception
import dns.name
import dns.ttl

from dynzone.dns.settings import DnsSettings
from dynzone.engine.settings import HostPort, Network, ZoneSettings
from dynzone.http.settings import DEFAULT_HTTP_PORT, AcmeDnsSettings, HttpSettings
from dynzone.logs import FORMATS as LOG_FORMATS
from dynzone.privileges import PrivilegeError, lookup
from dynzone.zones.serial import POLICIES as SERIAL_POLICIES
from dynzone.zones.trusted_rdata import name_from_text

DEMO_ZONE = "dyn.example.test"
DEFAULT_DATA_DIR = "dynzone-data"


class ConfigError(Exception):
    """A problem with the configuration that the user must fix."""


@dataclass(frozen=True)
class Config:
    data_dir: Path
    dns: DnsSettings = field(default_factory=DnsSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    zones: tuple[ZoneSettings, ...] = ()
    path: Path | None = None  # None for the built-in demo configuration
    user: str | None = None  # become this user once the sockets are bound
    log_format: str = "text"  # or "json"


_TOP_KEYS = {"data_dir", "user", "dns", "http", "zone", "log", "acme_dns"}
_ACME_DNS_KEYS = {"zone", "register_from", "txt_ttl"}
_LOG_KEYS = {"format"}
_DNS_KEYS = {
    "listen",
    "edns_payload",
    "tcp_idle_timeout",
    "tcp_max_connections",
    "tcp_max_connections_per_address",
    "rrl_limit",
    "rrl_slip",
    "rrl_exempt",
    "cookies",
    "cookie_secret",
}
_HTTP_KEYS = {
    "listen",
    "trusted_proxies",
    "updates_per_host_per_minute",
    "failed_logins_per_minute",
    "header_timeout",
    "max_connections",
    "max_connections_per_address",
    "metrics_from",
}
_ZONE_KEYS = {
    "name",
    "file",
    "ns",
    "email",
    "serial_policy",
    "dynamic_ttl",
    "journal_limit",
    "export_file",
    "export_command",
    "allow_update",
    "allow_transfer",
    "notify",
    "notify_key",
}


def load_config(path: str | Path) -> Config:
    """Read and validate the TOML file at ``path``."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: config file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(raw, path)


def parse_config(raw: dict[str, Any], path: Path) -> Config:
    """Validate an already-parsed TOML document that came from ``path``."""
    base = path.parent
    where = str(path)
    _no_unknown(raw, _TOP_KEYS, where, "")
    data_dir = base / _typed(raw, "data_dir", str, where, "", DEFAULT_DATA_DIR)
    user = _typed(raw, "user", str, where, "", "") or None
    if user is not None:
        try:
            lookup(user)
        except PrivilegeError as exc:
            raise ConfigError(f"{where}: {exc}") from None

    dns_raw = _typed(raw, "dns", dict, where, "", {})
    _no_unknown(dns_raw, _DNS_KEYS, where, "dns.")
    default = DnsSettings()
    listen_raw = _typed(dns_raw, "listen", list, where, "dns.", [str(a) for a in default.listen])
    if not listen_raw:
        raise ConfigError(f'{where}: dns.listen: give at least one address, e.g. "127.0.0.1:5353"')
    listen = tuple(
        parse_listen(item, f"{where}: dns.listen[{i}]") for i, item in enumerate(listen_raw)
    )
    payload = _typed(dns_raw, "edns_payload", int, where, "dns.", default.edns_payload)
    if not 512 <= payload <= 4096:
        raise ConfigError(f"{where}: dns.edns_payload: {payload} is outside 512..4096")
    idle = _typed(
        dns_raw, "tcp_idle_timeout", (int, float), where, "dns.", default.tcp_idle_timeout
    )
    if idle <= 0:
        raise ConfigError(f"{where}: dns.tcp_idle_timeout: must be more than 0 seconds")
    max_conn = _typed(
        dns_raw, "tcp_max_connections", int, where, "dns.", default.tcp_max_connections
    )
    if max_conn < 1:
        raise ConfigError(f"{where}: dns.tcp_max_connections: must be at least 1")
    per_address = _typed(
        dns_raw,
        "tcp_max_connections_per_address",
        int,
        where,
        "dns.",
        default.tcp_max_connections_per_address,
    )
    if per_address < 1:
        raise ConfigError(f"{where}: dns.tcp_max_connections_per_address: must be at least 1")
    rrl_limit = _typed(dns_raw, "rrl_limit", int, where, "dns.", default.rrl_limit)
    if rrl_limit < 0:
        raise ConfigError(f"{where}: dns.rrl_limit: responses per second, 0 to turn RRL off")
    rrl_slip = _typed(dns_raw, "rrl_slip", int, where, "dns.", default.rrl_slip)
    if not 0 <= rrl_slip <= 10:
        raise ConfigError(f"{where}: dns.rrl_slip: 0 (never slip) to 10")
    cookies = _typed(dns_raw, "cookies", bool, where, "dns.", default.cookies)
    secret_text = _typed(dns_raw, "cookie_secret", str, where, "dns.", "")
    cookie_secret = None
    if secret_text:
        try:
            cookie_secret = bytes.fromhex(secret_text)
        except ValueError:
            cookie_secret = b""
        if len(cookie_secret) != 16:
            raise ConfigError(
                f"{where}: dns.cookie_secret: give 16 bytes as 32 hex digits"
                " (e.g. from: openssl rand -hex 16)"
            )
    exempt = (
        _networks(dns_raw, "rrl_exempt", where, "dns.")
        if "rrl_exempt" in dns_raw
        else default.rrl_exempt
    )

    zones_raw = _typed(raw, "zone", list, where, "", [])
    zones: list[ZoneSettings] = []
    seen: set[dns.name.Name] = set()
    for i, z in enumerate(zones_raw):
        key = f"zone[{i}]"
        if not isinstance(z, dict):
            raise ConfigError(f"{where}: {key}: expected a [[zone]] table")
        _no_unknown(z, _ZONE_KEYS, where, f"{key}.")
        name_text = z.get("name")
        if not isinstance(name_text, str) or not name_text.strip():
            raise ConfigError(
                f'{where}: {key}.name: every [[zone]] needs a name, e.g. "example.com"'
            )
        try:
            name = name_from_text(name_text)
        except dns.exception.DNSException as exc:
            raise ConfigError(
                f"{where}: {key}.name: {name_text!r} is not a domain name: {exc}"
            ) from None
        if name in seen:
            raise ConfigError(f"{where}: {key}.name: zone {name_text} is configured twice")
        seen.add(name)
        zones.append(_parse_zone_settings(z, name, base, where, key))
    http = _parse_http(_typed(raw, "http", dict, where, "", {}), where)
    if "acme_dns" in raw:
        acme = _parse_acme_dns(_typed(raw, "acme_dns", dict, where, "", {}), where, seen)
        if not http.listen:
            raise ConfigError(
                f"{where}: acme_dns: the acme-dns API is served over HTTP; set http.listen,"
                ' e.g. ["127.0.0.1:8053"]'
            )
        http = dataclasses.replace(http, acme_dns=acme)
    log_raw = _typed(raw, "log", dict, where, "", {})
    _no_unknown(log_raw, _LOG_KEYS, where, "log.")
    log_format = _typed(log_raw, "format", str, where, "log.", "text")
    if log_format not in LOG_FORMATS:
        raise ConfigError(
            f"{where}: log.format: {log_format!r} is not one of {', '.join(LOG_FORMATS)}"
        )
    return Config(
        data_dir=data_dir,
        dns=DnsSettings(
            listen=listen,
            edns_payload=payload,
            tcp_idle_timeout=float(idle),
            tcp_max_connections=max_conn,
            tcp_max_connections_per_address=per_address,
            rrl_limit=rrl_limit,
            rrl_slip=rrl_slip,
            rrl_exempt=exempt,
            cookies=cookies,
            cookie_secret=cookie_secret,
        ),
        http=http,
        zones=tuple(zones),
        path=path,
        user=user,
        log_format=log_format,
    )


def _parse_zone_settings(
    z: dict[str, Any], name: dns.name.Name, base: Path, where: str, key: str
) -> ZoneSettings:
    p = f"{key}."
    file: Path | None = None
    file_text = _typed(z, "file", str, where, p, "")
    if file_text:
        file = base / file_text
        if not file.is_file():
            raise ConfigError(f"{where}: {key}.file: zone file {file} not found")
    ns_raw = _typed(z, "ns", list, where, p, [])
    ns = []
    for i, item in enumerate(ns_raw):
        try:
            if not isinstance(item, str):
                raise ValueError
            ns.append(dns.name.from_text(item))
        except (ValueError, dns.exception.DNSException):
            raise ConfigError(
                f"{where}: {key}.ns[{i}]: {item!r} is not a name server name,"
                ' e.g. "ns1.example.com."'
            ) from None
    email = _typed(z, "email", str, where, p, "") or None
    if email is not None and not _email_ok(email):
        raise ConfigError(
            f'{where}: {key}.email: {email!r} is not an address like "hostmaster@example.com"'
        )
    if file is None and (not ns or email is None):
        raise ConfigError(
            f"{where}: {key}: zone {name} has no file, so it needs ns and email to build its"
            ' SOA and NS records, e.g. ns = ["ns1.example.com."] and'
            ' email = "hostmaster@example.com"'
        )
    policy = _typed(z, "serial_policy", str, where, p, "increment")
    if policy not in SERIAL_POLICIES:
        raise ConfigError(
            f"{where}: {key}.serial_policy: {policy!r} is not one of {', '.join(SERIAL_POLICIES)}"
        )
    dynamic_ttl = _typed(z, "dynamic_ttl", int, where, p, 60)
    if not 0 <= dynamic_ttl <= 2**31 - 1:
        raise ConfigError(f"{where}: {key}.dynamic_ttl: {dynamic_ttl} is not a TTL in seconds")
    journal_limit = _typed(z, "journal_limit", int, where, p, 1000)
    if journal_limit < 1:
        raise ConfigError(f"{where}: {key}.journal_limit: keep at least 1 journal entry")
    export_text = _typed(z, "export_file", str, where, p, "")
    command = _typed(z, "export_command", str, where, p, "") or None
    allow_update = _networks(z, "allow_update", where, p)
    transfer_keys, transfer_networks = _transfer_access(z, where, p)
    notify = tuple(
        parse_address(item, f"{where}: {p}notify[{i}]", default_port=53)
        for i, item in enumerate(_typed(z, "notify", list, where, p, []))
    )
    notify_key = _typed(z, "notify_key", str, where, p, "") or None
    if notify_key is not None:
        notify_key = _key_name(notify_key, f"{where}: {p}notify_key")
        if not notify:
            raise ConfigError(f"{where}: {p}notify_key: needs notify to be set too")
    if command is not None and not export_text:
        raise ConfigError(f"{where}: {key}.export_command: needs export_file to be set too")
    return ZoneSettings(
        name=name,
        file=file,
        ns=tuple(ns),
        email=email,
        serial_policy=policy,
        dynamic_ttl=dynamic_ttl,
        journal_limit=journal_limit,
        export_file=base / export_text if export_text else None,
        export_command=command,
        allow_update=allow_update,
        transfer_keys=transfer_keys,
        transfer_networks=transfer_networks,
        notify=notify,
        notify_key=notify_key,
    )


def _email_ok(email: str) -> bool:
    local, at, domain = email.rpartition("@")
    return bool(at and local and "." in domain and " " not in email)


def _parse_http(raw: dict[str, Any], where: str) -> HttpSettings:
    _no_unknown(raw, _HTTP_KEYS, where, "http.")
    listen_raw = _typed(raw, "listen", list, where, "http.", [])
    listen = tuple(
        parse_listen(item, f"{where}: http.listen[{i}]") for i, item in enumerate(listen_raw)
    )
    proxies = _networks(raw, "trusted_proxies", where, "http.")
    limits: dict[str, Any] = {}
    for name in (
        "updates_per_host_per_minute",
        "failed_logins_per_minute",
        "max_connections",
        "max_connections_per_address",
    ):
        value = _typed(raw, name, int, where, "http.", getattr(HttpSettings, name))
        if value < 1:
            raise ConfigError(f"{where}: http.{name}: must be at least 1")
        limits[name] = value
    timeout = _typed(
        raw, "header_timeout", (int, float), where, "http.", HttpSettings.header_timeout
    )
    if timeout <= 0:
        raise ConfigError(f"{where}: http.header_timeout: must be more than 0 seconds")
    if "metrics_from" in raw:
        limits["metrics_from"] = _networks(raw, "metrics_from", where, "http.")
    return HttpSettings(
        listen=listen, trusted_proxies=proxies, header_timeout=float(timeout), **limits
    )


def _parse_acme_dns(raw: dict[str, Any], where: str, served: set[dns.name.Name]) -> AcmeDnsSettings:
    _no_unknown(raw, _ACME_DNS_KEYS, where, "acme_dns.")
    text = _typed(raw, "zone", str, where, "acme_dns.", "")
    try:
        zone = name_from_text(text) if text.strip() else None
    except dns.exception.DNSException:
        zone = None
    if zone is None or zone not in served:
        raise ConfigError(
            f"{where}: acme_dns.zone: {text!r} must name one of the [[zone]]s served here"
            ' (e.g. zone = "acme.example.com"): accounts get their TXT names in it'
        )
    ttl_raw = raw.get("txt_ttl", AcmeDnsSettings.txt_ttl)
    try:
        txt_ttl = dns.ttl.from_text(str(ttl_raw)) if not isinstance(ttl_raw, bool) else 0
    except dns.ttl.BadTTL:
        txt_ttl = 0
    if txt_ttl <= 0:
        raise ConfigError(
            f"{where}: acme_dns.txt_ttl: {ttl_raw!r} is not a duration: seconds, or with"
            ' units s, m, h, d (e.g. 3600 or "1h")'
        )
    return AcmeDnsSettings(zone, _networks(raw, "register_from", where, "acme_dns."), txt_ttl)


def _networks(raw: dict[str, Any], key: str, where: str, prefix: str) -> tuple[Network, ...]:
    out = []
    for i, item in enumerate(_typed(raw, key, list, where, prefix, [])):
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except (TypeError, ValueError):
            raise ConfigError(
                f"{where}: {prefix}{key}[{i}]: {item!r} is not an address or network"
                ' like "127.0.0.1/32"'
            ) from None
    return tuple(out)


def _transfer_access(
    z: dict[str, Any], where: str, prefix: str
) -> tuple[frozenset[str], tuple[Network, ...]]:
    """``allow_transfer = ["key:NAME", "192.0.2.0/24"]``."""
    keys = set()
    networks = []
    for i, item in enumerate(_typed(z, "allow_transfer", list, where, prefix, [])):
        at = f"{where}: {prefix}allow_transfer[{i}]"
        if isinstance(item, str) and item.startswith("key:"):
            keys.add(_key_name(item[4:], at))
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except (TypeError, ValueError):
            raise ConfigError(
                f'{at}: {item!r} is neither "key:NAME" nor an address or network'
                ' like "192.0.2.0/24"'
            ) from None
    return frozenset(keys), tuple(networks)


def _key_name(text: str, where: str) -> str:
    """A TSIG key name as the key store spells it (lower case, no final dot)."""
    try:
        name = dns.name.from_text(text.strip())
    except dns.exception.DNSException:
        name = dns.name.root
    if name == dns.name.root:
        raise ConfigError(f"{where}: {text!r} is not a key name (dynzone key list shows them)")
    return name.to_text(omit_final_dot=True).lower()


def parse_address(item: object, where: str, default_port: int) -> HostPort:
    """Parse ``"192.0.2.1"``, ``"192.0.2.1:5300"`` or ``"[2001:db8::1]:5300"``."""
    if isinstance(item, str) and not item.startswith("["):
        try:
            return HostPort(str(ipaddress.ip_address(item)), default_port)
        except ValueError:
            if ":" not in item:
                raise ConfigError(
                    f"{where}: {item!r} is not an IP address; give an address, optionally"
                    f' with a port: "192.0.2.2" (port {default_port}) or "192.0.2.2:5300"'
                ) from None
    return parse_listen(item, where)


def parse_listen(item: object, where: str) -> HostPort:
    """Parse ``"127.0.0.1:5353"`` or ``"[::1]:5353"``."""
    if not isinstance(item, str):
        raise ConfigError(f'{where}: expected a string like "127.0.0.1:5353"')
    if item.startswith("["):
        host, sep, port_text = item[1:].partition("]:")
    else:
        host, sep, port_text = item.rpartition(":")
    if not sep or not host:
        raise ConfigError(
            f'{where}: {item!r} is not HOST:PORT (use "127.0.0.1:5353" or "[::1]:5353")'
        )
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(f"{where}: {host!r} is not an IP address") from None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"{where}: {port_text!r} is not a port number (1-65535)")
    return HostPort(str(ip), int(port_text))


def demo_config(data_dir: Path) -> Config:
    """The embedded default: the demo zone in ``data_dir``, DNS on 127.0.0.1:5353, HTTP on 8053."""
    return Config(
        data_dir=data_dir,
        http=HttpSettings(listen=(HostPort("127.0.0.1", DEFAULT_HTTP_PORT),)),
        zones=(ZoneSettings(dns.name.from_text(DEMO_ZONE), data_dir / f"{DEMO_ZONE}.zone"),),
    )


def _no_unknown(table: dict[str, Any], known: set[str], where: str, prefix: str) -> None:
    for key in table:
        if key not in known:
            allowed = ", ".join(sorted(prefix + k for k in known))
            raise ConfigError(f"{where}: unknown key {prefix}{key} (known keys: {allowed})")


def _typed(
    table: dict[str, Any],
    key: str,
    kind: type | tuple[type, ...],
    where: str,
    prefix: str,
    default: Any,
) -> Any:
    value = table.get(key, default)
    # TOML booleans are ints to Python; reject them where a number is wanted.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"{where}: {prefix}{key}: expected {_nice(names)}, got {value!r}")
    return value


def _nice(type_names: str) -> str:
    return (
        type_names.replace("str", "a string")
        .replace("int", "an integer")
        .replace("float", "a number")
        .replace("list", "a list")
        .replace("dict", "a table")
    )
