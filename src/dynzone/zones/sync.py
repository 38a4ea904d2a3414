"""The zone-file door: bring the served zones in line with their files and settings.

A zone with a ``file`` is imported on first start (a ``NewZone``). Later, when
the file's bytes change, the *difference* between the previously imported
file and the new one is applied as a ChangeSet: records added dynamically
survive, and the edit shows up in DNS. A zone without a file is created with
an SOA and NS built from its ``ns`` and ``email`` settings. Everything goes
through ``Engine.commit_now``, in the writer thread (or before serving).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.SOA

from dynzone.engine.changeset import (
    AddRecord,
    ChangeRejected,
    ChangeSet,
    DeleteRecord,
    NewZone,
    Op,
    SetRRset,
    ZoneChange,
)
from dynzone.engine.engine import Engine
from dynzone.engine.settings import ZoneSettings
from dynzone.store.base import FileState, StoreError, ZoneWrite
from dynzone.zones.loader import ZoneLoadError, load_rows
from dynzone.zones.names import lower_text
from dynzone.zones.serial import next_serial
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.zone_rows import ZoneRows
from dynzone.zones.zonefile import Record

log = logging.getLogger("dynzone")

SETTINGS_TTL = 3600
# refresh, retry, expire, minimum (the negative TTL: short, names come and go).
SOA_TIMERS = (3600, 600, 1209600, 60)


def _digest(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return "missing"


def _file_unchanged(state: FileState | None, main: str) -> bool:
    if not state or state[0][0] != main:
        return False
    return all(_digest(path) == digest for path, digest in state)


class SyncError(Exception):
    """A zone cannot be served as configured; the message says which and why."""


def bring_in_line(engine: Engine, zones: Sequence[ZoneSettings], strict: bool) -> None:
    """Serve exactly ``zones``, each in line with its file or settings (writer thread).

    With ``strict`` (start-up) the first zone that cannot be served raises
    SyncError. Otherwise (a reload) such a zone keeps what it served, or is
    not served when it is new, and the log says why.
    """
    engine.set_settings(zones)
    engine.follow()  # another process (import-dyndnsd) may have changed a zone
    engine.hold_all(zs.name for zs in zones)  # the stored ones, in one read
    file_states = engine.store.file_states()  # and what their files were
    served: list[dns.name.Name] = []
    # Zones imported for the first time are committed together, a batch at a
    # time: one transaction and one fsync for many small zones.
    imports: list[Import] = []
    pending_records = 0

    def refused(zs: ZoneSettings, exc: Exception, previous: ZoneSnapshot | None) -> None:
        where = f"{zs.file}: " if isinstance(exc, ChangeRejected) and zs.file else ""
        if strict:
            raise SyncError(f"zone {zs.name}: {where}{exc}") from None
        if previous is not None:
            log.error("zone %s: %s%s; keeping serial %d", zs.name, where, exc, previous.serial)
            served.append(zs.name)
        else:
            log.error("zone %s: %s%s; not served", zs.name, where, exc)

    def commit_imports() -> None:
        results = engine.commit_all_now([i.changeset for i in imports])
        for one, result in zip(imports, results, strict=True):
            if isinstance(result, (ChangeRejected, StoreError)):
                refused(one.settings, result, None)
            elif isinstance(result, BaseException):
                raise result
            else:
                log.info("zone %s: %s", one.settings.name, one.done)
                served.append(one.settings.name)
        imports.clear()

    for zs in zones:
        previous = engine.snapshot(zs.name)
        try:
            done = sync_zone(engine, zs, imports, file_states)
        except (ZoneLoadError, ChangeRejected, StoreError) as exc:
            refused(zs, exc, previous)
            continue
        if isinstance(done, Import):
            pending_records += done.records
            if len(imports) >= _IMPORT_BATCH or pending_records >= _IMPORT_RECORDS:
                commit_imports()
                pending_records = 0
            continue
        if done:
            log.info("zone %s: %s", zs.name, done)
        served.append(zs.name)
    if imports:
        commit_imports()
    wanted = {zs.name for zs in zones}
    for zone in engine.catalog.zones.values():
        if zone.origin not in wanted:
            log.info("zone %s: removed from the configuration; no longer served", zone.origin)
    engine.serve(served)


@dataclass
class Import:
    """A zone's first import from its file, to be committed with others."""

    settings: ZoneSettings
    changeset: ChangeSet
    records: int
    done: str  # the line for the log once it is committed


# A batch of first imports ends at this many zones or records.
_IMPORT_BATCH = 500
_IMPORT_RECORDS = 200_000


def sync_zone(
    engine: Engine,
    zs: ZoneSettings,
    imports: list[Import] | None = None,
    file_states: Mapping[str, FileState] | None = None,
) -> str | Import | None:
    """Create or update the stored zone from its file or settings; what was done, if
    anything, as a line for the log. With ``imports``, a zone imported for the
    first time is not committed but added there (and returned) for the caller
    to commit with others. ``file_states``, if given, is the store's
    ``file_states()`` read just before (a start with many zones reads them
    all at once).

    Raises ZoneLoadError for a zone file with problems and ChangeRejected for
    an edit that conflicts with the zone's dynamic records; nothing is written
    then.
    """
    stored = engine.hold(zs.name)
    if zs.file is None:
        return _sync_from_settings(engine, zs, stored)
    store = engine.store
    main = str(zs.file)
    if stored is not None:
        if file_states is None:
            known = store.file_state(zs.name)
        else:
            known = file_states.get(lower_text(zs.name))
        if _file_unchanged(known, main):
            return None
    digests_before = _digest(main)
    rows, files = load_rows(zs.name, zs.file)
    state = [(main, digests_before)] + [(p, _digest(p)) for p in files[1:]]
    who = f"file:{zs.file}"
    if stored is None:
        changeset = ChangeSet(who, "local", (NewZone(zs.name, rows, state),))
        done = f"imported {len(rows)} records from {zs.file}"
        if imports is not None:
            imports.append(Import(zs, changeset, len(rows), done))
            return imports[-1]
        engine.commit_now(changeset)
        return done
    recs = rows.records()
    old = store.file_records(zs.name)
    before = {(r.name, r.ttl, r.rdata) for r in old if r.rdata.rdtype != dns.rdatatype.SOA}
    after = {(r.name, r.ttl, r.rdata) for r in recs if r.rdata.rdtype != dns.rdatatype.SOA}
    ops: list[Op] = [DeleteRecord(n, rd) for n, _, rd in before - after]
    ops += [AddRecord(n, ttl, rd) for n, ttl, rd in after - before]
    soa = next(r for r in recs if r.rdata.rdtype == dns.rdatatype.SOA)

    def remember(zone: ZoneWrite) -> None:
        zone.set_file_records(rows.rows, state)

    change = ZoneChange(zs.name, tuple(ops), soa=soa, after=remember)
    [outcome] = engine.commit_now(ChangeSet(who, "local", (change,)))
    if not outcome.changed:
        return None
    return (
        f"applied the edit of {zs.file} ({len(before - after)} removed,"
        f" {len(after - before)} added), serial {outcome.serial_to}"
    )


def email_to_rname(email: str) -> dns.name.Name:
    """hostmaster@example.com -> hostmaster.example.com. (dots in the local part escaped)."""
    local, _, domain = email.rpartition("@")
    return dns.name.from_text(local.replace(".", "\\.") + "." + domain.rstrip(".") + ".")


def _settings_soa(zc: ZoneSettings, serial: int) -> Record:
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


def _ns_rdatas(zc: ZoneSettings) -> tuple[dns.rdata.Rdata, ...]:
    return tuple(
        dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.NS, ns.to_text()) for ns in zc.ns
    )


def _sync_from_settings(engine: Engine, zc: ZoneSettings, held: ZoneSnapshot | None) -> str | None:
    if held is None:
        serial = next_serial(0, zc.serial_policy, time.time())
        soa = _settings_soa(zc, serial)
        recs = [soa, *(Record(zc.name, SETTINGS_TTL, rd) for rd in _ns_rdatas(zc))]
        new = NewZone(zc.name, ZoneRows.of_records(recs))
        engine.commit_now(ChangeSet("config", "local", (new,)))
        return f"created with serial {serial} from its ns and email settings"
    # The settings may have been edited: keep SOA MNAME/RNAME and the apex NS in line.
    if not zc.ns or zc.email is None:
        return None
    current = held.soa
    old = current[0]
    soa = _settings_soa(zc, int(old.serial))
    soa = Record(
        zc.name,
        current.ttl,
        old.replace(mname=soa.rdata.mname, rname=soa.rdata.rname),  # type: ignore[attr-defined]
    )
    change = ZoneChange(
        zc.name, (SetRRset(zc.name, dns.rdatatype.NS, SETTINGS_TTL, _ns_rdatas(zc)),), soa=soa
    )
    [outcome] = engine.commit_now(ChangeSet("config", "local", (change,)))
    if not outcome.changed:
        return None
    return f"updated SOA/NS from the settings, serial {outcome.serial_to}"
