"""``dynzone import-dyndnsd CONFIG.yaml [DB.json]``: move a dyndnsd setup into dynzone.

dyndnsd keeps users with clear-text passwords and their ``hosts`` (or a
``regex``) in its YAML config, and the current addresses in ``db.json``
(``{"serial": N, "hosts": {"name": ["192.0.2.1", "2001:db8::1"]}}``).
Users become dynzone users with argon2-hashed passwords; the addresses become
records, committed as one ChangeSet per zone through the normal pipeline.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from collections.abc import Container
from pathlib import Path
from typing import Any

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import yaml

from dynzone.commands.common import fail, load, open_store
from dynzone.engine.changeset import ChangeRejected, ChangeSet, SetRRset, ZoneChange
from dynzone.engine.engine import Engine
from dynzone.passwords import store_chosen
from dynzone.policy import Grant, PatternError, normalise_pattern, regex_pattern
from dynzone.users import PREFIX
from dynzone.zones.loader import ZoneLoadError
from dynzone.zones.sync import sync_zone


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("import-dyndnsd", help="import users and addresses from dyndnsd")
    p.add_argument("dyndnsd_config", metavar="CONFIG.yaml")
    p.add_argument("db", metavar="DB.json", nargs="?", help="default: the db named in CONFIG")
    p.add_argument("--config", metavar="FILE", help="dynzone's TOML configuration file")


class ImportError_(Exception):
    """The dyndnsd files cannot be imported; the message says why."""


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ImportError_(f"{path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ImportError_(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ImportError_(f"{path}: expected a dyndnsd config (a YAML mapping)")
    return data


def _read_db(path: Path) -> dict[str, list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ImportError_(f"{path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ImportError_(f"{path}: not valid JSON: {exc}") from None
    hosts = data.get("hosts", {}) if isinstance(data, dict) else None
    if not isinstance(hosts, dict):
        raise ImportError_(f'{path}: expected {{"hosts": {{"name": ["address", ...]}}}}')
    return {str(k): [str(a) for a in v] for k, v in hosts.items() if isinstance(v, list)}


def _grants(
    name: str, entry: dict[str, Any], where: str, zone: dns.name.Name | None
) -> list[Grant]:
    out = []
    for host in entry.get("hosts") or []:
        try:
            out.append(Grant(normalise_pattern(str(host))))
        except PatternError as exc:
            raise ImportError_(f"{where}: users.{name}.hosts: {exc}") from None
    regex = entry.get("regex")
    if regex:
        if zone is None:
            raise ImportError_(
                f"{where}: users.{name}.regex: a regex grant is confined to dyndnsd's domain,"
                " which must be a configured [[zone]]; add it to the dynzone config first"
            )
        try:
            out.append(Grant(regex_pattern(zone.to_text(), str(regex))))
        except PatternError as exc:
            raise ImportError_(f"{where}: users.{name}.regex: {exc}") from None
    return out


def _configured_domain(domain: object, zones: Container[dns.name.Name]) -> dns.name.Name | None:
    """dyndnsd's ``domain`` as a configured zone, or None."""
    if not isinstance(domain, str) or not domain.strip():
        return None
    try:
        name = dns.name.from_text(domain.strip())
    except dns.exception.DNSException:
        return None
    return name if name in zones else None


def run(args: argparse.Namespace) -> int:
    config = load(args.config)
    yaml_path = Path(args.dyndnsd_config)
    try:
        dd = _read_yaml(yaml_path)
        users = dd.get("users") or {}
        if not isinstance(users, dict):
            raise ImportError_(f"{yaml_path}: users: expected a mapping of user names")
        db_text = args.db or dd.get("db")
        hosts = _read_db(yaml_path.parent / str(db_text)) if db_text else {}
    except ImportError_ as exc:
        return fail(str(exc))
    zones = {z.name: z for z in config.zones}
    store = open_store(config)
    try:
        # Check everything before writing anything.
        plan: list[tuple[str, str, list[Grant]]] = []
        domain = _configured_domain(dd.get("domain"), zones)
        for name, entry in users.items():
            if not isinstance(entry, dict) or not entry.get("password"):
                return fail(f"{yaml_path}: users.{name}: has no password")
            plan.append(
                (
                    str(name),
                    str(entry["password"]),
                    _grants(str(name), entry, str(yaml_path), domain),
                )
            )
        changes: dict[dns.name.Name, list[SetRRset]] = {}
        for host, addrs in sorted(hosts.items()):
            hname = dns.name.from_text(host)
            zone = next((z for z in zones if hname.is_subdomain(z)), None)
            if zone is None:
                return fail(
                    f"{host} from the dyndnsd db is in no configured zone; add a [[zone]] for"
                    f" {dd.get('domain', 'its domain')} to the dynzone config first"
                )
            v4 = [a for a in addrs if isinstance(ipaddress.ip_address(a), ipaddress.IPv4Address)]
            v6 = [a for a in addrs if a not in v4]
            ttl = zones[zone].dynamic_ttl
            for rdtype, group in ((dns.rdatatype.A, v4), (dns.rdatatype.AAAA, v6)):
                if group:
                    rds = tuple(dns.rdata.from_text(dns.rdataclass.IN, rdtype, a) for a in group)
                    changes.setdefault(zone, []).append(SetRRset(hname, rdtype, ttl, rds))
        # Users first, all in one transaction; a re-run skips the ones already there.
        added, skipped = 0, []
        hashed = [(n, store_chosen(pw), g) for n, pw, g in plan]
        with store.write() as txn:
            for name, secret, grants in hashed:
                if txn.identity(PREFIX + name) is not None:
                    skipped.append(name)
                    continue
                txn.add_identity(PREFIX + name, secret, grants, "dyndnsd")
                added += 1
        print(f"users: {added} imported (passwords hashed with argon2)")
        for name in skipped:
            print(f"users: {name} already exists in dynzone; left unchanged", file=sys.stderr)
        if changes:
            # The same pipeline as the server's: the zones brought in line with their
            # files first, then one ChangeSet, journaled as the import.
            engine = Engine(store, config.zones, lambda: open_store(config))
            for zone in changes:
                sync_zone(engine, zones[zone])
            zone_changes = tuple(ZoneChange(z, tuple(ops)) for z, ops in changes.items())
            outcomes = engine.commit_now(ChangeSet("import:dyndnsd", str(yaml_path), zone_changes))
            for o in outcomes:
                print(
                    f"zone {o.zone}: {len(o.added) - 1 if o.changed else 0} records imported,"
                    f" serial {o.serial_to}"
                )
            print("a running dynzone serves them within a second", file=sys.stderr)
    except (ImportError_, ChangeRejected, ZoneLoadError, ValueError) as exc:
        return fail(str(exc))
    finally:
        store.close()
    return 0
