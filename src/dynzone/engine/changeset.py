"""ChangeSets: every change to a zone, whatever door it came in by.

A door (HTTP, RFC 2136, a zone-file edit) authorises its caller, then builds a
``ChangeSet`` and hands it to ``Engine.commit``, which applies it in one store
transaction that also bumps each zone's SOA serial and appends a journal
entry, then serves the result. Nothing else writes records. A change that
would break a zone raises ``ChangeRejected`` and writes nothing.

A door whose changes depend on the zone's current data (RFC 2136
prerequisites and special cases) passes an ``edit`` that reads and changes
the zone inside the transaction, and a ``vet`` that sees the final
difference before anything is written.

A zone's first records (the first import of its file, or the SOA and NS
built from its settings) are a ``NewZone``: one journal entry records the
creation, not every record, or it would be as large as the zone.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol

import dns.name
import dns.rdata
import dns.rdatatype
import dns.rrset

from dynzone.store.base import FileState, ZoneWrite
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.zone_rows import ZoneRows
from dynzone.zones.zonefile import Record


class ChangeRejected(Exception):
    """The change would break the zone or is not allowed; nothing was written.

    ``name`` is the name the refusal is about, when there is one, so that a
    door answering for several names can say which one was refused.
    """

    def __init__(self, message: str, name: dns.name.Name | None = None) -> None:
        super().__init__(message)
        self.name = name


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
    caller of ``Engine.commit``. ``after`` runs in the same transaction, for
    bookkeeping that must commit with the change. ``serial_past`` asks for a
    serial after that one even when nothing else changes (a secondary serves
    a newer serial than ours, as after a restore from an older backup).
    """

    zone: dns.name.Name
    ops: tuple[Op, ...]
    soa: Record | None = None
    serial_past: int | None = None
    after: Callable[[ZoneWrite], None] | None = None
    edit: Callable[[ZoneEdit], None] | None = None
    vet: Callable[[list[Record], list[Record]], None] | None = None


@dataclass(frozen=True)
class NewZone:
    """A zone's first records, SOA included, as store rows; ``file_state`` when they
    came from a file."""

    zone: dns.name.Name
    records: ZoneRows
    file_state: FileState | None = None


@dataclass(frozen=True)
class ChangeSet:
    """One atomic change, possibly to several zones, by one identity."""

    identity: str
    source: str
    zones: tuple[ZoneChange | NewZone, ...]


# The RRsets a commit left behind, by (owner, type); None where one was deleted.
RRsetChanges = dict[tuple[dns.name.Name, int], dns.rrset.RRset | None]


@dataclass
class Staged:
    """An RRset as a change leaves it: owner, TTL and records (none: deleted)."""

    name: dns.name.Name
    ttl: int
    rdatas: list[dns.rdata.Rdata]


@dataclass(frozen=True)
class Outcome:
    """What a commit did to one zone.

    Besides what a door reports (serials, records removed and added), it
    carries what serving the change takes: the zone's journal position after
    it (None when nothing was journaled), the RRsets it replaced (by owner key
    and type; None when the change read the zone from the store rather than
    from the engine's view of it, so the engine must catch up through the
    journal), and a new zone's records.
    """

    zone: dns.name.Name
    changed: bool
    serial_from: int
    serial_to: int
    removed: list[Record] = field(default_factory=list)
    added: list[Record] = field(default_factory=list)
    position: int | None = None
    staged: dict[tuple[bytes, int], Staged] | None = None
    records: ZoneRows | None = None
    # A new zone's, as written; a big one's may still be in the making
    # (apply.py, ``_create``): the engine takes it once the commit is durable.
    snapshot: ZoneSnapshot | Future[ZoneSnapshot] | None = None

    def touched(self, name: dns.name.Name) -> bool:
        """True if records at ``name`` (other than the SOA) changed."""
        return any(r.name == name for r in [*self.removed, *self.added] if not _is_soa(r))


def _is_soa(rec: Record) -> bool:
    return rec.rdata.rdtype == dns.rdatatype.SOA


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
