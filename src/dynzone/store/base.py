"""The store port: everything dynzone asks of its durable store, and nothing more.

The engine, the doors and the commands talk to a ``Store``; ``store/sqlite/``
is the one implementation today. The rules an implementation must keep:

* ``Store.write()`` is one transaction: all of it commits, or none of it does.
* ``WriteTransaction.zone(origin)`` holds that zone **exclusively** until the
  transaction ends (SQLite: the transaction's ``BEGIN IMMEDIATE`` already holds
  the whole database; PostgreSQL would lock the zone's row with ``SELECT …
  FOR UPDATE``). Journal sequence numbers and SOA serials are allocated
  under that hold alone, from the zone's own row, so two writers of one zone
  queue and two writers of different zones never need to.
* Every change to a zone's records appends one journal entry in the same
  transaction. The zone's last journal sequence number is its position in
  the change feed: another process that knows a zone at position N reads the
  entries after N (``journal_after``) to catch up, or the whole zone when they
  no longer reach back (``load_zone`` returns records and position together).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import dns.name
import dns.rdata

from dynzone.policy import Grant, Identity
from dynzone.zones.snapshot import StoredRow, ZoneSnapshot
from dynzone.zones.zonefile import Record

FileState = list[tuple[str, str]]  # (path, sha256 of its bytes) for a file and its $INCLUDEs


class StoreError(Exception):
    """The store cannot be opened or used; the message says why."""


class TransactionSpoiled(StoreError):
    """A part of a write transaction failed after writing, and nothing can undo
    it alone: the whole transaction must be rolled back."""


@dataclass(frozen=True)
class JournalEntry:
    """One committed change to a zone: serials, records removed and added, who, when.

    A zone's creation is an entry too: it removes nothing, adds the SOA
    alone and has ``serial_from == serial_to``; it cannot be part of an IXFR.
    """

    seq: int
    serial_from: int
    serial_to: int
    removed: list[Record]
    added: list[Record]
    identity: str
    source: str
    time: float

    @property
    def creates_zone(self) -> bool:
        return not self.removed


@dataclass(frozen=True)
class StoredZone:
    """A zone as the store holds it, and its change-feed position then."""

    snapshot: ZoneSnapshot
    position: int

    @property
    def records(self) -> list[Record]:
        """Every record, one by one (made from the snapshot on each call)."""
        return [
            Record(rrset.name, rrset.ttl, rdata)
            for rrset in self.snapshot.rrsets()
            for rdata in rrset
        ]


@dataclass(frozen=True)
class Expired:
    """A record whose end time has come (``ZoneWrite.set_expiry``)."""

    zone: dns.name.Name
    name: dns.name.Name
    rdata: dns.rdata.Rdata
    expires: float


@dataclass(frozen=True)
class IdentityRow:
    name: str  # "user:alice", "key:acme"
    created: float
    origin: str  # where it came from ("dyndnsd", "demo"), or ""
    algorithm: str  # a TSIG key's algorithm; "" for users
    allow_from: str = ""  # the client networks it may be used from (space-separated); "": any
    expires: float | None = None  # when it stops working (Unix time); None: never


class ZoneWrite(Protocol):
    """One zone inside a write transaction, held exclusively until it ends."""

    origin: dns.name.Name

    def position(self) -> int:
        """The zone's latest journal sequence number (its change-feed position)."""
        ...

    def rrset(self, name: dns.name.Name, rdtype: int) -> list[Record]:
        """The records of one RRset (empty if there is none)."""
        ...

    def types_at(self, name: dns.name.Name) -> set[int]:
        """The record types present at ``name``."""
        ...

    def write_rrset(
        self, name: dns.name.Name, rdtype: int, ttl: int, rdatas: Iterable[dns.rdata.Rdata]
    ) -> None:
        """Replace one RRset (an empty ``rdatas`` deletes it)."""
        ...

    def insert(self, records: Iterable[Record]) -> None:
        """Add records to a zone being created (no checks, no journal)."""
        ...

    def insert_rows(self, rows: Sequence[StoredRow]) -> None:
        """``insert`` for records already in the store's row form (a zone file's)."""
        ...

    def append_journal(
        self,
        serial_from: int,
        serial_to: int,
        removed: list[Record],
        added: list[Record],
        identity: str,
        source: str,
        when: float,
        keep: int,
    ) -> int:
        """Add an entry, keep the newest ``keep``; returns its sequence number."""
        ...

    def set_file_records(self, rows: Sequence[StoredRow], state: FileState) -> None:
        """Remember the zone file just imported: its records (as rows) and its digests."""
        ...

    def file_records_are_the_zone(self, state: FileState) -> None:
        """Remember the zone file just imported as ``set_file_records`` does, when
        its records are exactly those of the zone (a zone just created from it)."""
        ...

    def snapshot(self) -> ZoneSnapshot:
        """The zone as this transaction has written it so far."""
        ...

    def set_expiry(self, name: dns.name.Name, rdata: dns.rdata.Rdata, expires: float) -> None:
        """Have the record ``name``/``rdata`` deleted at ``expires`` (Unix time),
        replacing any time set for it before."""
        ...

    def clear_expiry(self, name: dns.name.Name, rdata: dns.rdata.Rdata) -> None:
        """Forget the record's end time (it was deleted, or is to stay)."""
        ...


class WriteTransaction(Protocol):
    """What may be written inside ``Store.write()``."""

    def savepoint(self, undo: bool = True) -> AbstractContextManager[None]:
        """A part of the transaction: if its block raises, what it wrote is undone
        (and the error raised on); the rest of the transaction goes on.

        With ``undo=False`` the caller promises that its block refuses (raises)
        only before it writes, and nothing is set aside to undo: a block that
        raises having written nothing just raises; one that raises after
        writing raises ``TransactionSpoiled``, and the whole transaction must
        be rolled back. It saves the store the cost of a real savepoint.
        """
        ...

    def zone(self, origin: dns.name.Name) -> ZoneWrite | None:
        """The stored zone, held exclusively from now on; None if it is not stored."""
        ...

    def create_zone(self, origin: dns.name.Name) -> ZoneWrite:
        """A new, empty zone (the caller fills it), held exclusively."""
        ...

    def identity(self, name: str) -> tuple[str, Identity] | None:
        """An identity's stored secret and grants, read inside this transaction."""
        ...

    def add_identity(
        self,
        name: str,
        secret: str,
        grants: list[Grant],
        origin: str = "",
        algorithm: str = "",
        allow_from: str = "",
        expires: float | None = None,
    ) -> None: ...

    def remove_identity(self, name: str) -> bool: ...

    def set_secret(self, name: str, secret: str) -> bool: ...


class Store(Protocol):
    """A durable store of zones, their journals and identities.

    One ``Store`` object is one connection: use it from one thread at a time
    and open another for another thread (``open_store`` again).
    """

    def write(self) -> AbstractContextManager[WriteTransaction]:
        """One write transaction; it commits (durably) when the block ends."""
        ...

    # -- zones -----------------------------------------------------------------

    def zone_names(self) -> list[str]: ...

    def load_zone(self, origin: dns.name.Name) -> StoredZone | None:
        """Every record of the zone and its feed position, read consistently."""
        ...

    def load_zones(self, origins: Iterable[dns.name.Name]) -> dict[dns.name.Name, StoredZone]:
        """``load_zone`` for many zones at once, in one read (those stored)."""
        ...

    def soa_serial(self, origin: dns.name.Name) -> int | None:
        """The stored SOA serial (one row read, not the zone)."""
        ...

    def file_state(self, origin: dns.name.Name) -> FileState | None:
        """The digests of the zone file (and $INCLUDEs) imported last."""
        ...

    def file_states(self) -> dict[str, FileState]:
        """``file_state`` of every stored zone imported from a file, by the zone's
        lower-cased name (one read for a start with many zones)."""
        ...

    def file_records(self, origin: dns.name.Name) -> list[Record]:
        """The records of the zone file imported last."""
        ...

    # -- journal and change feed -------------------------------------------------

    def journal(self, origin: dns.name.Name, last: int | None = None) -> list[JournalEntry]:
        """The zone's journal, oldest first (only the ``last`` N if given)."""
        ...

    def journal_since(self, origin: dns.name.Name, serial: int) -> list[JournalEntry]:
        """The entries from the last one that starts at ``serial`` on (for IXFR); empty
        when the journal does not reach back that far."""
        ...

    def positions(self) -> dict[dns.name.Name, int]:
        """The change feed: every stored zone's latest journal sequence number."""
        ...

    def journal_after(self, origin: dns.name.Name, position: int) -> list[JournalEntry]:
        """The entries after ``position``, oldest first (to follow the feed)."""
        ...

    def version(self) -> int:
        """A number that moves whenever another connection commits anything."""
        ...

    # -- identities -------------------------------------------------------------

    def identity(self, name: str) -> tuple[str, Identity] | None:
        """The stored secret (a hash, or a TSIG secret) and the identity, if it exists."""
        ...

    def grants(self, name: str) -> tuple[Grant, ...]: ...

    def identities_version(self) -> int:
        """A number that moves whenever any identity or grant changes (whoever wrote)."""
        ...

    def identities(self, prefix: str) -> list[IdentityRow]:
        """Every identity whose name starts with ``prefix``, by name."""
        ...

    def identity_row(self, name: str) -> IdentityRow | None:
        """The identity ``name`` as ``identities`` lists it, if it exists."""
        ...

    def secrets(self, prefix: str) -> list[tuple[str, str, str]]:
        """(name, algorithm, secret) of every identity whose name starts with ``prefix``."""
        ...

    def expired(self, now: float, most: int = 1000) -> list[Expired]:
        """Up to ``most`` records whose end time is ``now`` or earlier, oldest first."""
        ...

    def backup(self, target: Path) -> dict[str, int]:
        """Write a consistent copy of the whole store to the new file ``target``;
        returns each zone's serial in the copy."""
        ...

    def close(self) -> None: ...
