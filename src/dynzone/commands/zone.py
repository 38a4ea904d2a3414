"""``dynzone zone export|journal|status``: read a zone from the store, even while the server runs.

``status`` also asks each of the zone's secondaries (its ``notify`` list)
for the serial it serves now.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import dns.exception
import dns.name

from dynzone.commands.common import fail, load, open_store
from dynzone.xfr import propagation
from dynzone.zones.export import zone_text


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    zone = sub.add_parser("zone", help="read zones from the store")
    zone_sub = zone.add_subparsers(dest="zone_command", metavar="ACTION", required=True)
    export = zone_sub.add_parser("export", help="print the zone as a zone file")
    export.add_argument("name", metavar="NAME")
    jrnl = zone_sub.add_parser("journal", help="print the zone's change journal")
    jrnl.add_argument("name", metavar="NAME")
    jrnl.add_argument("--last", type=int, metavar="N", help="only the last N entries")
    status = zone_sub.add_parser(
        "status", help="show the serial each secondary serves and how fast it caught up"
    )
    status.add_argument("name", metavar="NAME")
    status.add_argument("--json", action="store_true", help="print the report as JSON")
    for p in (export, jrnl, status):
        p.add_argument("--config", metavar="FILE", help="TOML configuration file")


def run(args: argparse.Namespace) -> int:
    try:
        origin = dns.name.from_text(args.name)
    except dns.exception.DNSException as exc:
        return fail(f"{args.name!r} is not a domain name: {exc}")
    config = load(args.config)
    store = open_store(config)
    try:
        serial = store.soa_serial(origin)
        if serial is None:
            known = ", ".join(store.zone_names()) or "none"
            return fail(f"zone {origin} is not in the store {config.data_dir} (zones: {known})")
        if args.zone_command == "export":
            stored = store.load_zone(origin)
            assert stored is not None
            sys.stdout.write(zone_text(stored.snapshot))
        elif args.zone_command == "status":
            zc = next((z for z in config.zones if z.name == origin), None)
            if zc is None:
                return fail(f"zone {origin} is in the store but not in the configuration")
            latest = store.journal(origin, 1)
            changed_at = latest[0].time if latest else None
            recorded = propagation.load(config.data_dir).get(origin.to_text(), {})
            report = asyncio.run(
                propagation.report(origin, serial, changed_at, zc.notify, recorded)
            )
            if args.json:
                print(json.dumps(report, indent=2))
            else:
                sys.stdout.write(propagation.text(report))
        else:
            for e in store.journal(origin, args.last):
                when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(e.time))
                change = (
                    f"zone created at serial {e.serial_to}"
                    if e.creates_zone
                    else f"serial {e.serial_from} -> {e.serial_to}"
                )
                print(f"; {change} at {when} by {e.identity} from {e.source}")
                for sign, recs in (("-", e.removed), ("+", e.added)):
                    for r in recs:
                        print(f"{sign} {r.name} {r.ttl} IN {r.rdata.rdtype.name} {r.rdata}")
    finally:
        store.close()
    return 0
