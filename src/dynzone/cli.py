"""The ``dynzone`` command line."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import dns.exception
import dns.name

from dynzone import __version__, logs
from dynzone.commands import acme_dns, backup, import_dyndnsd, key, token, user, zone
from dynzone.config import (
    DEFAULT_DATA_DIR,
    DEMO_ZONE,
    Config,
    ConfigError,
    demo_config,
    load_config,
)
from dynzone.demo import DEMO_USER, ensure_demo_user, ensure_demo_zone
from dynzone.server import Server, StartupError
from dynzone.store.base import StoreError
from dynzone.zones.loader import read_and_check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="dynzone", description="Authoritative DNS server with built-in dynamic DNS."
    )
    parser.add_argument("--version", action="version", version=f"dynzone {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve DNS (with no --config: a demo zone on loopback)")
    serve.add_argument("--config", metavar="FILE", help="TOML configuration file")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])

    check = sub.add_parser("check", help="check a zone file and print its problems")
    check.add_argument("zonefile", metavar="ZONEFILE")
    check.add_argument("--origin", metavar="NAME", help="the zone's name (default: from the file)")

    user.add_parser(sub)
    key.add_parser(sub)
    token.add_parser(sub)
    acme_dns.add_parser(sub)
    zone.add_parser(sub)
    import_dyndnsd.add_parser(sub)
    backup.add_parser(sub)

    args = parser.parse_args(argv)
    if args.command == "serve":
        return cmd_serve(args.config, args.log_level)
    if args.command == "check":
        return cmd_check(args.zonefile, args.origin)
    runners = {
        "user": user.run,
        "key": key.run,
        "token": token.run,
        "acme-dns": acme_dns.run,
        "zone": zone.run,
        "import-dyndnsd": import_dyndnsd.run,
        "backup": backup.run_backup,
        "restore": backup.run_restore,
    }
    if args.command in runners:
        try:
            return runners[args.command](args)
        except (ConfigError, StoreError) as exc:
            return _fail(str(exc))
    parser.print_help()
    return 2


def _fail(message: str) -> int:
    print(f"dynzone: error: {message}", file=sys.stderr)
    return 1


def cmd_serve(config_path: str | None, log_level: str) -> int:
    logs.setup(log_level)
    demo_password = None
    try:
        if config_path is None:
            data_dir = Path(DEFAULT_DATA_DIR)
            config = demo_config(data_dir)
            assert config.zones[0].file is not None
            ensure_demo_zone(config.zones[0].file)
        else:
            config = load_config(config_path)
            logs.setup(log_level, config.log_format)
        server = Server(config)
        server.load_zones()
        if config.path is None:
            demo_password = ensure_demo_user(server.engine.store)
    except (ConfigError, StartupError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"{exc.filename}: {exc.strerror}")

    runner: Callable[[Coroutine[Any, Any, None]], None]
    try:
        import uvloop  # type: ignore[import-not-found, unused-ignore]

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    try:
        runner(server.run(on_ready=lambda: _banner(config, server, demo_password)))
    except StartupError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        pass
    return 0


def _banner(config: Config, server: Server, demo_password: str | None) -> None:
    lines = [f"dynzone {__version__} is serving"]
    for zc in config.zones:
        z = server.engine.snapshot(zc.name)
        if z is None:
            continue
        origin = f"from {zc.file}" if zc.file else "from the store"
        lines.append(
            f"  zone {zc.name.to_text(omit_final_dot=True)}: {z.record_count} records,"
            f" serial {z.serial}, {origin}"
        )
    addrs = ", ".join(str(a) for a in config.dns.listen)
    lines.append(f"  DNS on {addrs} (UDP and TCP); store in {config.data_dir}")
    if config.http.listen:
        http = ", ".join(str(a) for a in config.http.listen)
        lines.append(
            f"  HTTP on {http}: dyndns2 (/nic/update, /nic/checkip), the PowerDNS-compatible"
            " API (/api, with a `dynzone token`), /health, /metrics; described at /api/openapi.json"
        )
        if config.http.acme_dns is not None:
            acme_zone = config.http.acme_dns.zone.to_text(omit_final_dot=True)
            lines.append(f"  acme-dns API (/register, /update) with names in {acme_zone}")
    first = config.dns.listen[0]
    host, port = first.host, first.port
    zone_name = config.zones[0].name.to_text(omit_final_dot=True) if config.zones else DEMO_ZONE
    lines += ["Try:", f"  dig @{host} -p {port} {zone_name} SOA"]
    if demo_password is not None and config.http.listen:
        web = config.http.listen[0]
        hostname = f"myhost.{DEMO_ZONE}"
        lines += [
            f"Demo user {DEMO_USER!r}, password {demo_password} (new at every demo start)."
            " Update a record, then read it back:",
            f"  curl -u {DEMO_USER}:{demo_password}"
            f" 'http://{web}/nic/update?hostname={hostname}&myip=192.0.2.10'",
            f"  dig @{host} -p {port} {hostname} A +short",
        ]
    lines.append("Edit a zone file and send SIGHUP to apply the edit; Ctrl-C stops.")
    print("\n".join(lines), flush=True)


def cmd_check(zonefile: str, origin_text: str | None) -> int:
    path = Path(zonefile)
    if not path.is_file():
        return _fail(f"{zonefile}: no such file")
    try:
        origin = dns.name.from_text(origin_text) if origin_text else _guess_origin(path)
    except dns.exception.DNSException as exc:
        return _fail(f"--origin {origin_text!r} is not a domain name: {exc}")
    if origin is None:
        return _fail(
            f"{zonefile}: cannot tell which zone this is (no $ORIGIN, and the file name is not"
            " a domain name); give --origin NAME"
        )
    records, problems, _ = read_and_check(origin, path)
    for p in problems:
        print(p)
    if problems:
        print(f"{zonefile}: {len(problems)} problem(s) in zone {origin}", file=sys.stderr)
        return 1
    print(f"{zonefile}: zone {origin} is OK ({len(records)} records)")
    return 0


_ORIGIN_RE = re.compile(r"^\$ORIGIN\s+(\S+)", re.IGNORECASE | re.MULTILINE)


def _guess_origin(path: Path) -> dns.name.Name | None:
    """The zone name from the file's first $ORIGIN, else from its file name."""
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:65536]
    except OSError:
        head = ""
    m = _ORIGIN_RE.search(head)
    if m and m.group(1).endswith("."):
        try:
            return dns.name.from_text(m.group(1))
        except dns.exception.DNSException:
            pass
    stem = path.name
    for suffix in (".zone", ".db", ".txt"):
        stem = stem.removesuffix(suffix)
    stem = stem.removeprefix("db.")
    if "." in stem:
        try:
            return dns.name.from_text(stem)
        except dns.exception.DNSException:
            return None
    return None
