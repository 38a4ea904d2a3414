"""The configuration file (TOML), checked key by key.

Every mistake a user can make here ends in one ``ConfigError`` whose message
names the file and the key (or the zone file and line), never a traceback.
Paths in the file are relative to the file itself.
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.exception
import dns.name

DEFAULT_DNS_PORT = 5353
DEMO_ZONE = "dyn.example.test"
DEFAULT_DATA_DIR = "dynzone-data"


class ConfigError(Exception):
    """A problem with the configuration that the user must fix."""


@dataclass(frozen=True)
class ListenAddress:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ZoneConfig:
    name: dns.name.Name
    file: Path


@dataclass(frozen=True)
class DnsConfig:
    listen: tuple[ListenAddress, ...] = (ListenAddress("127.0.0.1", DEFAULT_DNS_PORT),)
    edns_payload: int = 1232
    tcp_idle_timeout: float = 10.0
    tcp_max_connections: int = 1000


@dataclass(frozen=True)
class Config:
    data_dir: Path
    dns: DnsConfig = field(default_factory=DnsConfig)
    zones: tuple[ZoneConfig, ...] = ()
    path: Path | None = None  # None for the built-in demo configuration


_TOP_KEYS = {"data_dir", "dns", "zone"}
_DNS_KEYS = {"listen", "edns_payload", "tcp_idle_timeout", "tcp_max_connections"}
_ZONE_KEYS = {"name", "file"}


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

    dns_raw = _typed(raw, "dns", dict, where, "", {})
    _no_unknown(dns_raw, _DNS_KEYS, where, "dns.")
    default = DnsConfig()
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

    zones_raw = _typed(raw, "zone", list, where, "", [])
    zones: list[ZoneConfig] = []
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
            name = dns.name.from_text(name_text)
        except dns.exception.DNSException as exc:
            raise ConfigError(
                f"{where}: {key}.name: {name_text!r} is not a domain name: {exc}"
            ) from None
        if name in seen:
            raise ConfigError(f"{where}: {key}.name: zone {name_text} is configured twice")
        seen.add(name)
        file_text = z.get("file")
        if not isinstance(file_text, str) or not file_text:
            raise ConfigError(f"{where}: {key}.file: zone {name_text} needs a zone file path")
        file = base / file_text
        if not file.is_file():
            raise ConfigError(f"{where}: {key}.file: zone file {file} not found")
        zones.append(ZoneConfig(name=name, file=file))
    return Config(
        data_dir=data_dir,
        dns=DnsConfig(
            listen=listen,
            edns_payload=payload,
            tcp_idle_timeout=float(idle),
            tcp_max_connections=max_conn,
        ),
        zones=tuple(zones),
        path=path,
    )


def parse_listen(item: object, where: str) -> ListenAddress:
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
    return ListenAddress(str(ip), int(port_text))


def demo_config(data_dir: Path) -> Config:
    """The embedded default: the demo zone in ``data_dir``, DNS on 127.0.0.1:5353."""
    return Config(
        data_dir=data_dir,
        zones=(ZoneConfig(dns.name.from_text(DEMO_ZONE), data_dir / f"{DEMO_ZONE}.zone"),),
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
