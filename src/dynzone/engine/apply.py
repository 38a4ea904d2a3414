"""Apply one zone's part of a ChangeSet inside a store write transaction.

Everything here runs in the writer thread, on a zone the transaction holds
exclusively (store/base.py). The work reads only the RRsets the change
touches, so its cost follows the change, not the size of the zone: the
operations and the door's ``edit`` act on a working copy of those RRsets,
the result is checked (CNAME rules, the apex keeps its SOA and NS), and only
then are the changed RRsets, the new SOA and one journal entry written.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable
from concurrent.futures import Future

import dns.name
import dns.rdata
import dns.rdatatype

from dynzone.engine.changeset import (
    AddRecord,
    ChangeRejected,
    ChangeSet,
    DeleteRecord,
    NewZone,
    Op,
    Outcome,
    SetRRset,
    Staged,
    ZoneChange,
)
from dynzone.engine.settings import ZoneSettings
from dynzone.engine.zone_view import ZoneView
from dynzone.store.base import WriteTransaction, ZoneWrite
from dynzone.zones.checks import CNAME_COMPANIONS
from dynzone.zones.names import key_within, lower_text
from dynzone.zones.serial import at_least, next_serial, serial_gt, soa_fields
from dynzone.zones.snapshot import ZoneSnapshot, key_of
from dynzone.zones.trusted_rdata import with_serial
from dynzone.zones.wire import rdata_key, rdata_wire
from dynzone.zones.zonefile import Record

_Key = tuple[bytes, int]  # (owner's key, rdtype)


def _key(name: dns.name.Name, rdtype: int) -> _Key:
    return key_of(name), rdtype


class _Work:
    """RRsets of one zone as the transaction changes them, read lazily.

    They are read from ``view`` (the engine's snapshot of the zone, with what
    earlier changes of the batch did) when it is the zone exactly as stored
    (the engine checked the zone's journal position inside the transaction),
    and from the store otherwise (another process wrote to the zone since).
    """

    def __init__(self, zone: ZoneWrite, view: ZoneView | None) -> None:
        self.zone = zone
        self.view = view
        self.origin = zone.origin
        self.origin_key = key_of(zone.origin)
        self.before: dict[_Key, Staged] = {}
        self.now: dict[_Key, Staged] = {}
        self.soa: Record | None = None

    def _read(self, name: dns.name.Name, rdtype: int) -> Staged:
        if self.view is not None:
            return self.view.read(name, rdtype)
        recs = self.zone.rrset(name, rdtype)
        if not recs:
            return Staged(name, 0, [])
        return Staged(recs[0].name, recs[0].ttl, [r.rdata for r in recs])

    def get(self, name: dns.name.Name, rdtype: int) -> Staged:
        key = _key(name, rdtype)
        cur = self.now.get(key)
        if cur is None:
            before = self.before[key] = self._read(name, rdtype)
            cur = self.now[key] = Staged(before.name, before.ttl, list(before.rdatas))
        return cur

    def rdatas(self, name: dns.name.Name, rdtype: int) -> list[dns.rdata.Rdata]:
        return list(self.get(name, rdtype).rdatas)

    def _types_held(self, name: dns.name.Name) -> set[int]:
        if self.view is None:
            return self.zone.types_at(name)
        return self.view.types_at(name)

    def types_at(self, name: dns.name.Name) -> set[int]:
        owner = key_of(name)
        present = {t for t in self._types_held(name) if (owner, t) not in self.now}
        return present | {t for (k, t), rr in self.now.items() if k == owner and rr.rdatas}

    def replace_soa(self, soa: Record) -> None:
        self.soa = soa

    def apply(self, op: Op) -> None:
        # Records are compared by rdata_key (what dnspython's == compares,
        # remembered per object) and names by key: the same answers, without
        # rendering the same records and names again for every comparison.
        if not key_within(key_of(op.name), self.origin_key):
            raise ChangeRejected(f"{op.name} is not in zone {self.origin}", op.name)
        if isinstance(op, SetRRset):
            cur = self.get(op.name, op.rdtype)
            cur.ttl = op.ttl
            distinct: dict[bytes, dns.rdata.Rdata] = {}
            for rd in op.rdatas:
                distinct.setdefault(rdata_key(rd), rd)
            cur.rdatas = list(distinct.values())
        elif isinstance(op, AddRecord):
            cur = self.get(op.name, op.rdata.rdtype)
            cur.ttl = op.ttl
            key = rdata_key(op.rdata)
            if all(rdata_key(rd) != key for rd in cur.rdatas):
                cur.rdatas.append(op.rdata)
        elif isinstance(op, DeleteRecord):
            cur = self.get(op.name, op.rdata.rdtype)
            key = rdata_key(op.rdata)
            cur.rdatas = [rd for rd in cur.rdatas if rdata_key(rd) != key]
        else:
            self.get(op.name, op.rdtype).rdatas = []

    def check(self) -> None:
        """Refuse results that would break the zone."""
        names = {k[0]: rr.name for k, rr in self.now.items()}
        for owner, name in names.items():
            present = self.types_at(name)
            if dns.rdatatype.CNAME in present and present - CNAME_COMPANIONS - {
                dns.rdatatype.CNAME
            }:
                raise ChangeRejected(f"{name} would have a CNAME beside other data", name)
            if owner == self.origin_key:
                if dns.rdatatype.SOA not in present or dns.rdatatype.NS not in present:
                    raise ChangeRejected(f"zone {self.origin} must keep its SOA and NS records")
            elif dns.rdatatype.SOA in present:
                raise ChangeRejected(f"an SOA record belongs only at the apex {self.origin}", name)

    def diff(self) -> tuple[list[Record], list[Record], dict[_Key, Staged]]:
        removed: list[Record] = []
        added: list[Record] = []
        changed: dict[_Key, Staged] = {}
        for key, now in self.now.items():
            before = self.before[key]
            if now.ttl != before.ttl and before.rdatas and now.rdatas:
                gone, new = before.rdatas, now.rdatas
            else:
                now_keys = {rdata_key(rd) for rd in now.rdatas}
                before_keys = {rdata_key(rd) for rd in before.rdatas}
                gone = [rd for rd in before.rdatas if rdata_key(rd) not in now_keys]
                new = [rd for rd in now.rdatas if rdata_key(rd) not in before_keys]
            if gone or new:
                removed += [Record(before.name, before.ttl, rd) for rd in gone]
                added += [Record(now.name, now.ttl, rd) for rd in new]
                changed[key] = now
        return removed, added, changed


def apply_change(
    txn: WriteTransaction,
    change: ZoneChange | NewZone,
    changeset: ChangeSet,
    settings: ZoneSettings | None,
    when: float,
    view: ZoneView | None = None,
) -> Outcome:
    """Write one zone's part of ``changeset``; raise ChangeRejected (the caller rolls
    the whole transaction back) if it is refused.

    ``view`` is the engine's view of the zone and the journal position it
    reflects; when the store is still at that position, current data is read
    from the view instead of the store.
    """
    if isinstance(change, NewZone):
        return _create(txn, change, changeset, settings, when)
    zone = txn.zone(change.zone)
    if zone is None:
        raise ChangeRejected(f"zone {change.zone} is not in the store")
    if view is not None:
        if view.behind or not (view.checked or zone.position() == view.position):
            view = None
        else:
            # Nobody else writes while this transaction lasts: once is enough.
            view.checked = True
    return _change(zone, change, changeset, settings, when, view)


def _change(
    zone: ZoneWrite,
    zc: ZoneChange,
    cs: ChangeSet,
    settings: ZoneSettings | None,
    when: float,
    view: ZoneView | None,
) -> Outcome:
    policy = settings or ZoneSettings(zc.zone)
    work = _Work(zone, view)
    soa_key = _key(zc.zone, dns.rdatatype.SOA)
    work.get(zc.zone, dns.rdatatype.SOA)
    old_soa = work.before[soa_key]  # the store's SOA, whatever the ops do
    if len(old_soa.rdatas) != 1:
        raise ChangeRejected(f"zone {zc.zone} has no single SOA record in the store")
    for op in zc.ops:
        if isinstance(op, SetRRset | AddRecord) and _rdtype(op) == dns.rdatatype.SOA:
            raise ChangeRejected("the SOA record is managed by dynzone; it cannot be set")
        work.apply(op)
    if zc.edit is not None:
        zc.edit(work)
    work.check()
    # The SOA is not part of the record diff: it changes with every commit.
    del work.now[soa_key]
    removed, added, changed = work.diff()
    if zc.vet is not None:
        zc.vet(removed, added)
    old_rd = old_soa.rdatas[0]
    serial_from = int(old_rd.serial)  # type: ignore[attr-defined]
    base, base_ttl = old_rd, old_soa.ttl
    new_soa = work.soa or zc.soa
    if new_soa is not None:
        base, base_ttl = new_soa.rdata, new_soa.ttl
    soa_differs = base_ttl != old_soa.ttl or soa_fields(base) != soa_fields(old_rd)
    past = zc.serial_past
    behind = past is not None and not serial_gt(serial_from, past)
    if not changed and not soa_differs and not behind:
        if zc.after is not None:
            zc.after(zone)
        return Outcome(zc.zone, False, serial_from, serial_from)
    serial_to = next_serial(serial_from, policy.serial_policy, when)
    if new_soa is not None:
        serial_to = at_least(serial_to, int(base.serial))  # type: ignore[attr-defined]
    if past is not None and behind:
        serial_to = at_least(serial_to, (past + 1) % 2**32)
    new_rd = with_serial(base, serial_to)
    if base is old_rd:
        # The usual SOA change, the serial alone: its wire form is the old one's
        # with the serial written in, not a second rendering.
        wire = rdata_wire(old_rd)
        rdata_wire.remember(new_rd, wire[:-20] + struct.pack("!I", serial_to) + wire[-16:])
    for (_, rdtype), rr in changed.items():
        zone.write_rrset(rr.name, rdtype, rr.ttl, rr.rdatas)
    zone.write_rrset(zc.zone, dns.rdatatype.SOA, base_ttl, [new_rd])
    removed.insert(0, Record(old_soa.name, old_soa.ttl, old_rd))
    added.insert(0, Record(old_soa.name, base_ttl, new_rd))
    position = zone.append_journal(
        serial_from,
        serial_to,
        removed,
        added,
        cs.identity,
        cs.source,
        when,
        policy.journal_limit,
    )
    if zc.after is not None:
        zc.after(zone)
    staged = None
    if view is not None:
        staged = changed
        staged[soa_key] = Staged(old_soa.name, base_ttl, [new_rd])
    return Outcome(zc.zone, True, serial_from, serial_to, removed, added, position, staged)


def _create(
    txn: WriteTransaction,
    nz: NewZone,
    cs: ChangeSet,
    settings: ZoneSettings | None,
    when: float,
) -> Outcome:
    if txn.zone(nz.zone) is not None:
        raise ChangeRejected(f"zone {nz.zone} is already in the store")
    rows = nz.records
    groups = rows.groups()
    soas = groups.get(lower_text(nz.zone), {}).get(dns.rdatatype.SOA, [])
    if len({rows.rows[i][4] for i in soas}) != 1:
        raise ChangeRejected(f"zone {nz.zone} needs exactly one SOA record at its apex")
    if dns.rdatatype.NS not in groups[lower_text(nz.zone)]:
        raise ChangeRejected(f"zone {nz.zone} needs NS records at its apex")
    zone = txn.create_zone(nz.zone)
    zone.insert_rows(rows.rows)
    soa = rows.record(soas[0])
    serial = int(soa.rdata.serial)  # type: ignore[attr-defined]
    keep = (settings or ZoneSettings(nz.zone)).journal_limit

    def build() -> ZoneSnapshot:
        # Packed from the rows just written, not read back.
        return ZoneSnapshot.from_groups(nz.zone, rows.rows, groups)

    snapshot: ZoneSnapshot | Future[ZoneSnapshot]
    if nz.file_state is None or len(rows) < _BESIDE_STORE:
        if nz.file_state is not None:
            zone.file_records_are_the_zone(nz.file_state)
        snapshot = build()
    else:
        # A big zone's snapshot is built in a helper thread while the store
        # copies its rows as the file's records and then commits: the copy
        # is one SQL statement and the commit one fsync, both run without
        # holding Python's GIL. The engine takes the snapshot after the commit.
        snapshot = _beside(build)
        zone.file_records_are_the_zone(nz.file_state)
    position = zone.append_journal(serial, serial, [], [soa], cs.identity, cs.source, when, keep)
    return Outcome(nz.zone, True, serial, serial, [], [soa], position, None, nz.records, snapshot)


# Records from which a new zone's snapshot is built beside the store's
# work (below this, a thread costs more than the overlap gains).
_BESIDE_STORE = 50_000


def _beside(build: Callable[[], ZoneSnapshot]) -> Future[ZoneSnapshot]:
    """``build()`` run in a helper thread; its snapshot, or its error, in the future."""
    future: Future[ZoneSnapshot] = Future()

    def run() -> None:
        try:
            future.set_result(build())
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for it
            future.set_exception(exc)

    threading.Thread(target=run, name="dynzone-pack", daemon=True).start()
    return future


def _rdtype(op: SetRRset | AddRecord) -> int:
    return op.rdtype if isinstance(op, SetRRset) else op.rdata.rdtype
