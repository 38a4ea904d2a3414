"""The ChangeSet pipeline: every change to a zone, whatever door it came in by.

A door (HTTP, RFC 2136, a zone-file edit) authorises its caller, then builds a
``ChangeSet``. ``Writer.commit`` applies it in one store transaction that also
bumps each zone's SOA serial and appends a journal entry, then publishes the
next snapshot of each changed zone. Nothing else writes records
(DESIGN.md principle 1). A change that would break a zone raises
``ChangeRejected`` and writes nothing.

A door whose changes depend on the zone's current data (RFC 2136
prerequisites and special cases) passes an ``edit`` that reads and changes
the zone inside the transaction, and a ``vet`` that sees the final
difference before anything is written.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from dynzone.store import journal, records
from dynzone.store import zones as zone_rows
from dynzone.store.sqlite import transaction
from dynzone.zones.checks import CNAME_COMPANIONS
from dynzone.zones.loader import load_stored
from dynzone.zones.serial import at_least, next_serial
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.zonefile import Record

log = logging.getLogger("dynzone")


class ChangeRejected(Exception):
    """The change would break the zone or is not allowed; nothing was written."""


# -- operations -------------------------------------------------------------


@dataclass(frozen=True)
class SetRRset:
    """Make the RRset exactly ``rdatas`` (empty: delete it)."""

    name: dns.name.Name
    rdtype: int
    ttl: int
    rdatas: tuple[dns.rdata.Rdata, ...]


@dataclass(frozen=True)
class AddRecord:
    name: dns.name.Name
    ttl: int
    rdata: dns.rdata.Rdata


@dataclass(frozen=True)
class DeleteRecord:
    name: dns.name.Name
    rdata: dns.rdata.Rdata


@dataclass(frozen=True)
class DeleteRRset:
    name: dns.name.Name
    rdtype: int


Op = SetRRset | AddRecord | DeleteRecord | DeleteRRset


@dataclass(frozen=True)
class ZoneChange:
    """The operations on one zone.

    ``soa`` replaces the SOA's fields (a zone-file edit); its serial is used
    only if greater than the one the zone's policy gives. ``edit`` runs after
    ``ops`` against the zone as the transaction sees it; ``vet`` gets the
    records removed and added (SOA aside) and may raise to refuse them.
    Either may raise any exception: nothing is written and it reaches the
    caller of ``Writer.commit``. ``after`` runs in the same transaction, for
    bookkeeping that must commit with the change.
    """

    zone: dns.name.Name
    ops: tuple[Op, ...]
    soa: Record | None = None
    after: Callable[[sqlite3.Connection, int], None] | None = None
    edit: Callable[[ZoneEdit], None] | None = None
    vet: Callable[[list[Record], list[Record]], None] | None = None


@dataclass(frozen=True)
class ChangeSet:
    """One atomic change, possibly to several zones, by one identity."""

    identity: str
    source: str
    zones: tuple[ZoneChange, ...]


@dataclass(frozen=True)
class Outcome:
    """What a commit did to one zone."""

    zone: dns.name.Name
    changed: bool
    serial_from: int
    serial_to: int
    removed: list[Record] = field(default_factory=list)
    added: list[Record] = field(default_factory=list)

    def touched(self, name: dns.name.Name) -> bool:
        """True if records at ``name`` (other than the SOA) changed."""
        return any(r.name == name for r in [*self.removed, *self.added] if not _is_soa(r))


@dataclass(frozen=True)
class ZonePolicy:
    """The per-zone settings the pipeline needs."""

    serial_policy: str = "increment"
    journal_limit: int = 1000


def _is_soa(rec: Record) -> bool:
    return rec.rdata.rdtype == dns.rdatatype.SOA


# -- the working state of one zone inside a transaction ---------------------

_Key = tuple[str, int]  # (owner key, rdtype)


@dataclass
class _RRset:
    name: dns.name.Name
    ttl: int
    rdatas: list[dns.rdata.Rdata]


class ZoneEdit(Protocol):
    """A zone as one transaction sees it, for a ``ZoneChange.edit``."""

    origin: dns.name.Name

    def rdatas(self, name: dns.name.Name, rdtype: int) -> list[dns.rdata.Rdata]:
        """The RRset's records now (empty if it does not exist)."""
        ...

    def types_at(self, name: dns.name.Name) -> set[int]:
        """The types of the RRsets at ``name`` now."""
        ...

    def apply(self, op: Op) -> None: ...

    def replace_soa(self, soa: Record) -> None:
        """Use ``soa``'s fields; its serial counts only if above the policy's."""
        ...


class _Work:
    """RRsets of one zone as the transaction changes them, read lazily from the store."""

    def __init__(self, conn: sqlite3.Connection, zone_id: int, origin: dns.name.Name) -> None:
        self.conn = conn
        self.zone_id = zone_id
        self.origin = origin
        self.before: dict[_Key, _RRset] = {}
        self.now: dict[_Key, _RRset] = {}
        self.soa: Record | None = None

    def get(self, name: dns.name.Name, rdtype: int) -> _RRset:
        key = (records.owner_key(name), rdtype)
        cur = self.now.get(key)
        if cur is None:
            recs = records.rrset(self.conn, self.zone_id, name, rdtype)
            ttl = recs[0].ttl if recs else 0
            owner = recs[0].name if recs else name
            self.before[key] = _RRset(owner, ttl, [r.rdata for r in recs])
            cur = self.now[key] = _RRset(owner, ttl, [r.rdata for r in recs])
        return cur

    def rdatas(self, name: dns.name.Name, rdtype: int) -> list[dns.rdata.Rdata]:
        return list(self.get(name, rdtype).rdatas)

    def types_at(self, name: dns.name.Name) -> set[int]:
        key = records.owner_key(name)
        present = {
            t for t in records.types_at(self.conn, self.zone_id, name) if (key, t) not in self.now
        }
        return present | {t for (k, t), rr in self.now.items() if k == key and rr.rdatas}

    def replace_soa(self, soa: Record) -> None:
        self.soa = soa

    def apply(self, op: Op) -> None:
        if not op.name.is_subdomain(self.origin):
            raise ChangeRejected(f"{op.name} is not in zone {self.origin}")
        if isinstance(op, SetRRset):
            cur = self.get(op.name, op.rdtype)
            cur.ttl = op.ttl
            cur.rdatas = list(dict.fromkeys(op.rdatas))
        elif isinstance(op, AddRecord):
            cur = self.get(op.name, op.rdata.rdtype)
            cur.ttl = op.ttl
            if op.rdata not in cur.rdatas:
                cur.rdatas.append(op.rdata)
        elif isinstance(op, DeleteRecord):
            cur = self.get(op.name, op.rdata.rdtype)
            cur.rdatas = [rd for rd in cur.rdatas if rd != op.rdata]
        else:
            self.get(op.name, op.rdtype).rdatas = []

    def check(self) -> None:
        """Refuse results that would break the zone."""
        names = {k[0]: rr.name for k, rr in self.now.items()}
        for name in names.values():
            present = self.types_at(name)
            if dns.rdatatype.CNAME in present and present - CNAME_COMPANIONS - {
                dns.rdatatype.CNAME
            }:
                raise ChangeRejected(f"{name} would have a CNAME beside other data")
            if name == self.origin:
                if dns.rdatatype.SOA not in present or dns.rdatatype.NS not in present:
                    raise ChangeRejected(f"zone {self.origin} must keep its SOA and NS records")
            elif dns.rdatatype.SOA in present:
                raise ChangeRejected(f"an SOA record belongs only at the apex {self.origin}")

    def diff(self) -> tuple[list[Record], list[Record], dict[_Key, _RRset]]:
        removed: list[Record] = []
        added: list[Record] = []
        changed: dict[_Key, _RRset] = {}
        for key, now in self.now.items():
            before = self.before[key]
            if now.ttl != before.ttl and before.rdatas and now.rdatas:
                gone, new = before.rdatas, now.rdatas
            else:
                gone = [rd for rd in before.rdatas if rd not in now.rdatas]
                new = [rd for rd in now.rdatas if rd not in before.rdatas]
            if gone or new:
                removed += [Record(before.name, before.ttl, rd) for rd in gone]
                added += [Record(now.name, now.ttl, rd) for rd in new]
                changed[key] = now
        return removed, added, changed


# -- the writer ---------------------------------------------------------------


class Writer:
    """Commits ChangeSets to the store and publishes the next snapshots.

    Used from one thread at a time (the server's writer thread), so commits
    are serialised in this process; BEGIN IMMEDIATE serialises them with other
    processes.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        snapshots: dict[dns.name.Name, ZoneSnapshot],
        policies: dict[dns.name.Name, ZonePolicy],
        publish: Callable[[dict[dns.name.Name, ZoneSnapshot], set[dns.name.Name]], None],
    ) -> None:
        self.conn = conn
        self.snapshots = snapshots
        self.policies = policies
        self.publish = publish

    def commit(self, changeset: ChangeSet, now: float | None = None) -> list[Outcome]:
        """Apply ``changeset`` atomically; raise ChangeRejected if any part is refused."""
        when = time.time() if now is None else now
        outcomes: list[Outcome] = []
        pending: dict[dns.name.Name, dict[tuple[dns.name.Name, int], dns.rrset.RRset | None]] = {}
        with transaction(self.conn) as conn:
            for zc in changeset.zones:
                outcome, rrsets = self._apply(conn, zc, changeset, when)
                outcomes.append(outcome)
                if outcome.changed:
                    pending[zc.zone] = rrsets
        if pending:
            snapshots = dict(self.snapshots)
            starts = {o.zone: o.serial_from for o in outcomes}
            for zone, rrsets in pending.items():
                old = snapshots.get(zone)
                if old is None:
                    continue
                if old.serial == starts[zone]:
                    snapshots[zone] = old.evolve(rrsets)
                else:
                    # Another process changed the zone since our snapshot: read it whole.
                    snapshots[zone] = load_stored(self.conn, zone, old.source)
            self.snapshots = snapshots
            self.publish(snapshots, set(pending))
        return outcomes

    def _apply(
        self, conn: sqlite3.Connection, zc: ZoneChange, cs: ChangeSet, when: float
    ) -> tuple[Outcome, dict[tuple[dns.name.Name, int], dns.rrset.RRset | None]]:
        zone_id = zone_rows.zone_id(conn, zc.zone)
        if zone_id is None:
            raise ChangeRejected(f"zone {zc.zone} is not in the store")
        policy = self.policies.get(zc.zone, ZonePolicy())
        work = _Work(conn, zone_id, zc.zone)
        soa_key = (records.owner_key(zc.zone), dns.rdatatype.SOA)
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
        soa_differs = base_ttl != old_soa.ttl or base.replace(serial=serial_from) != old_rd
        if not changed and not soa_differs:
            if zc.after is not None:
                zc.after(conn, zone_id)
            return Outcome(zc.zone, False, serial_from, serial_from), {}
        serial_to = next_serial(serial_from, policy.serial_policy, when)
        if new_soa is not None:
            serial_to = at_least(serial_to, int(base.serial))  # type: ignore[attr-defined]
        new_rd = base.replace(serial=serial_to)
        for (_, rdtype), rr in changed.items():
            records.write_rrset(conn, zone_id, rr.name, rdtype, rr.ttl, rr.rdatas)
        records.write_rrset(conn, zone_id, zc.zone, dns.rdatatype.SOA, base_ttl, [new_rd])
        removed.insert(0, Record(old_soa.name, old_soa.ttl, old_rd))
        added.insert(0, Record(old_soa.name, base_ttl, new_rd))
        journal.append(
            conn,
            zone_id,
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
            zc.after(conn, zone_id)
        rrsets: dict[tuple[dns.name.Name, int], dns.rrset.RRset | None] = {}
        for (_, rdtype), rr in changed.items():
            rrsets[(rr.name, rdtype)] = _to_rrset(rr, rdtype)
        rrsets[(zc.zone, dns.rdatatype.SOA)] = _to_rrset(
            _RRset(old_soa.name, base_ttl, [new_rd]), dns.rdatatype.SOA
        )
        return Outcome(zc.zone, True, serial_from, serial_to, removed, added), rrsets


def _rdtype(op: SetRRset | AddRecord) -> int:
    return op.rdtype if isinstance(op, SetRRset) else op.rdata.rdtype


def _to_rrset(rr: _RRset, rdtype: int) -> dns.rrset.RRset | None:
    if not rr.rdatas:
        return None
    out = dns.rrset.RRset(rr.name, dns.rdataclass.IN, dns.rdatatype.RdataType.make(rdtype))
    for rd in rr.rdatas:
        out.add(rd)
    out.ttl = rr.ttl
    return out
