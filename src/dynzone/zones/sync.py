"""Bring the store in line with the configuration, zone by zone.

A zone with a ``file`` is imported on first start. Later, when the file's
bytes change, the *difference* between the previously imported file and the
new one is applied as a ChangeSet: records added dynamically survive, and the
edit shows up in DNS. A zone without a file is created with an SOA and NS
built from its ``ns`` and ``email`` settings.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.SOA

from dynzone.changes import (
    AddRecord,
    ChangeSet,
    DeleteRecord,
    Op,
    SetRRset,
    Writer,
    ZoneChange,
)
from dynzone.config import ZoneConfig, email_to_rname
from dynzone.store import records
from dynzone.store import zones as zone_rows
from dynzone.store.sqlite import transaction
from dynzone.zones.loader import load_records
from dynzone.zones.serial import next_serial
from dynzone.zones.zonefile import Record

SETTINGS_TTL = 3600
# refresh, retry, expire, minimum (the negative TTL: short, names come and go).
SOA_TIMERS = (3600, 600, 1209600, 60)


def _digest(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return "missing"


def _file_unchanged(state: zone_rows.FileState | None, main: str) -> bool:
    if not state or state[0][0] != main:
        return False
    return all(_digest(path) == digest for path, digest in state)


@dataclass(frozen=True)
class Synced:
    """What ``sync_zone`` did (a log line, or None), and the records of a first import,
    so the caller can index them without reading them back from the store."""

    message: str | None = None
    imported: list[Record] | None = None


def sync_zone(conn: sqlite3.Connection, writer: Writer, zc: ZoneConfig) -> Synced:
    """Create or update the stored zone from its config.

    Raises ZoneLoadError for a zone file with problems and ChangeRejected for
    an edit that conflicts with the zone's dynamic records; nothing is written
    then.
    """
    zid = zone_rows.zone_id(conn, zc.name)
    if zc.file is None:
        return _sync_from_settings(conn, writer, zc, zid)
    main = str(zc.file)
    if zid is not None and _file_unchanged(zone_rows.file_state(conn, zid), main):
        return Synced()
    digests_before = _digest(main)
    recs, files = load_records(zc.name, zc.file)
    state = [(main, digests_before)] + [(p, _digest(p)) for p in files[1:]]
    if zid is None:
        with transaction(conn):
            zid = zone_rows.create(conn, zc.name)
            records.insert(conn, zid, recs)
            records.insert(conn, zid, recs, "file_record")
            zone_rows.set_file_state(conn, zid, state)
        return Synced(f"imported {len(recs)} records from {zc.file}", recs)
    old = records.load(conn, zid, "file_record")
    before = {(r.name, r.ttl, r.rdata) for r in old if r.rdata.rdtype != dns.rdatatype.SOA}
    after = {(r.name, r.ttl, r.rdata) for r in recs if r.rdata.rdtype != dns.rdatatype.SOA}
    ops: list[Op] = [DeleteRecord(n, rd) for n, _, rd in before - after]
    ops += [AddRecord(n, ttl, rd) for n, ttl, rd in after - before]
    soa = next(r for r in recs if r.rdata.rdtype == dns.rdatatype.SOA)

    def remember(c: sqlite3.Connection, zone_id: int) -> None:
        records.replace_all(c, zone_id, recs, "file_record")
        zone_rows.set_file_state(c, zone_id, state)

    change = ZoneChange(zc.name, tuple(ops), soa=soa, after=remember)
    [outcome] = writer.commit(ChangeSet(f"file:{zc.file}", "local", (change,)))
    if not outcome.changed:
        return Synced()
    return Synced(
        f"applied the edit of {zc.file} ({len(before - after)} removed,"
        f" {len(after - before)} added), serial {outcome.serial_to}"
    )


def _settings_soa(zc: ZoneConfig, serial: int) -> Record:
    assert zc.email is not None
    rdata = dns.rdtypes.ANY.SOA.SOA(
        dns.rdataclass.IN,
        dns.rdatatype.SOA,
        zc.ns[0],
        email_to_rname(zc.email),
        serial,
        *SOA_TIMERS,
    )
    return Record(zc.name, SETTINGS_TTL, rdata)


def _ns_rdatas(zc: ZoneConfig) -> tuple[dns.rdata.Rdata, ...]:
    return tuple(
        dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.NS, ns.to_text()) for ns in zc.ns
    )


def _sync_from_settings(
    conn: sqlite3.Connection, writer: Writer, zc: ZoneConfig, zid: int | None
) -> Synced:
    if zid is None:
        serial = next_serial(0, zc.serial_policy, time.time())
        soa = _settings_soa(zc, serial)
        with transaction(conn):
            zid = zone_rows.create(conn, zc.name)
            records.insert(conn, zid, [soa])
            records.insert(conn, zid, [Record(zc.name, SETTINGS_TTL, rd) for rd in _ns_rdatas(zc)])
        return Synced(f"created with serial {serial} from its ns and email settings")
    # The settings may have been edited: keep SOA MNAME/RNAME and the apex NS in line.
    current = records.rrset(conn, zid, zc.name, dns.rdatatype.SOA)
    if not current or not zc.ns or zc.email is None:
        return Synced()
    old = current[0].rdata
    soa = _settings_soa(zc, int(old.serial))  # type: ignore[attr-defined]
    soa = Record(
        zc.name,
        current[0].ttl,
        old.replace(mname=soa.rdata.mname, rname=soa.rdata.rname),  # type: ignore[attr-defined]
    )
    change = ZoneChange(
        zc.name, (SetRRset(zc.name, dns.rdatatype.NS, SETTINGS_TTL, _ns_rdatas(zc)),), soa=soa
    )
    [outcome] = writer.commit(ChangeSet("config", "local", (change,)))
    if not outcome.changed:
        return Synced()
    return Synced(f"updated SOA/NS from the settings, serial {outcome.serial_to}")
