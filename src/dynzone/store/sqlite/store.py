"""The SQLite store: the port of ``store/base.py`` over one SQLite connection."""

from __future__ import annotations

import functools
import sqlite3
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import dns.name
import dns.rdata

from dynzone.policy import Grant, Identity
from dynzone.store.base import (
    Expired,
    FileState,
    IdentityRow,
    JournalEntry,
    StoredZone,
    StoreError,
    TransactionSpoiled,
)
from dynzone.store.sqlite import expiries, identities, journal, records
from dynzone.store.sqlite import zones as zone_rows
from dynzone.store.sqlite.backup import backup as backup_store
from dynzone.store.sqlite.connection import connect, db_path, transaction
from dynzone.zones.names import lower_text
from dynzone.zones.snapshot import StoredRow, ZoneSnapshot
from dynzone.zones.zonefile import Record


class SqliteZoneWrite:
    """One zone inside a write transaction (the transaction holds the database)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        zid: int,
        origin: dns.name.Name,
        trims: dict[int, int] | None = None,
    ) -> None:
        self.conn = conn
        self.zid = zid
        self.origin = origin
        # zone id -> journal limit, trimmed once when the transaction ends
        self.trims: dict[int, int] = {} if trims is None else trims

    def position(self) -> int:
        return zone_rows.position(self.conn, self.zid)

    def rrset(self, name: dns.name.Name, rdtype: int) -> list[Record]:
        return records.rrset(self.conn, self.zid, name, rdtype)

    def types_at(self, name: dns.name.Name) -> set[int]:
        return records.types_at(self.conn, self.zid, name)

    def write_rrset(
        self, name: dns.name.Name, rdtype: int, ttl: int, rdatas: Iterable[dns.rdata.Rdata]
    ) -> None:
        records.write_rrset(self.conn, self.zid, name, rdtype, ttl, rdatas)

    def insert(self, recs: Iterable[Record]) -> None:
        records.insert(self.conn, self.zid, recs)

    def insert_rows(self, rows: Sequence[StoredRow]) -> None:
        records.insert_rows(self.conn, self.zid, rows)

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
        seq = zone_rows.next_seq(self.conn, self.zid)
        journal.append(
            self.conn,
            self.zid,
            seq,
            serial_from,
            serial_to,
            removed,
            added,
            identity,
            source,
            when,
        )
        self.trims[self.zid] = keep
        return seq

    def set_file_records(self, rows: Sequence[StoredRow], state: FileState) -> None:
        records.replace_all(self.conn, self.zid, rows, "file_record")
        zone_rows.set_file_state(self.conn, self.zid, state)

    def file_records_are_the_zone(self, state: FileState) -> None:
        records.copy_to_file_records(self.conn, self.zid)
        zone_rows.set_file_state(self.conn, self.zid, state)

    def snapshot(self) -> ZoneSnapshot:
        return ZoneSnapshot.from_rows(self.origin, records.rows(self.conn, self.zid))

    def set_expiry(self, name: dns.name.Name, rdata: dns.rdata.Rdata, expires: float) -> None:
        expiries.set_expiry(self.conn, self.zid, name, rdata, expires)

    def clear_expiry(self, name: dns.name.Name, rdata: dns.rdata.Rdata) -> None:
        expiries.clear_expiry(self.conn, self.zid, name, rdata)


class SqliteWrite:
    """The body of one ``SqliteStore.write()`` transaction."""

    def __init__(self, conn: sqlite3.Connection, ids: dict[dns.name.Name, int]) -> None:
        self.conn = conn
        self._ids = ids  # zone ids seen before (a zone's id never changes)
        self.trims: dict[int, int] = {}  # zone id -> journal limit, for finish()

    @contextmanager
    def savepoint(self, undo: bool = True) -> Iterator[None]:
        if not undo:
            before = self.conn.total_changes
            try:
                yield
            except BaseException as exc:
                if self.conn.total_changes != before:
                    raise TransactionSpoiled(
                        f"the store could not write: {exc}; nothing of it was kept"
                    ) from exc
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"the store could not write: {exc}") from exc
                raise
            return
        self.conn.execute("SAVEPOINT part")
        try:
            yield
        except BaseException as exc:
            self.conn.execute("ROLLBACK TO part")
            self.conn.execute("RELEASE part")
            self._ids.clear()  # a zone created in the part is gone again
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"the store could not write: {exc}") from exc
            raise
        self.conn.execute("RELEASE part")

    def finish(self) -> None:
        """What is done once per transaction, just before it commits."""
        for zid, keep in self.trims.items():
            journal.trim(self.conn, zid, keep)

    def zone(self, origin: dns.name.Name) -> SqliteZoneWrite | None:
        zid = self._ids.get(origin)
        if zid is None:
            zid = zone_rows.zone_id(self.conn, origin)
            if zid is None:
                return None
            self._ids[origin] = zid
        return SqliteZoneWrite(self.conn, zid, origin, self.trims)

    def create_zone(self, origin: dns.name.Name) -> SqliteZoneWrite:
        zid = zone_rows.create(self.conn, origin)
        return SqliteZoneWrite(self.conn, zid, origin, self.trims)

    def identity(self, name: str) -> tuple[str, Identity] | None:
        return identities.get(self.conn, name)

    def add_identity(
        self,
        name: str,
        secret: str,
        grants: list[Grant],
        origin: str = "",
        algorithm: str = "",
        allow_from: str = "",
        expires: float | None = None,
    ) -> None:
        identities.add(self.conn, name, secret, grants, origin, algorithm, allow_from, expires)

    def remove_identity(self, name: str) -> bool:
        return identities.remove(self.conn, name)

    def set_secret(self, name: str, secret: str) -> bool:
        return identities.set_secret(self.conn, name, secret)


T = TypeVar("T")


def _readable(cls: type[T]) -> type[T]:
    """Make every read of ``cls`` raise StoreError, not sqlite3's own error, when the
    database is damaged: the user gets one line saying what to do, never a traceback."""
    for name, method in list(vars(cls).items()):
        if name.startswith("_") or name in ("write", "close") or not callable(method):
            continue

        def wrapped(self: SqliteStore, *args: Any, __method: Any = method, **kw: Any) -> Any:
            try:
                return __method(self, *args, **kw)
            except sqlite3.DatabaseError as exc:
                raise StoreError(
                    f"{db_path(self.data_dir)}: the store cannot be read ({exc}); restore it"
                    " from a backup (dynzone restore)"
                ) from None

        functools.update_wrapper(wrapped, method)
        setattr(cls, name, wrapped)
    return cls


@_readable
class SqliteStore:
    """The store in ``data_dir/dynzone.sqlite3``, over one connection."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.conn = connect(data_dir)
        self._ids: dict[dns.name.Name, int] = {}

    @contextmanager
    def write(self) -> Iterator[SqliteWrite]:
        try:
            with transaction(self.conn) as conn:
                body = SqliteWrite(conn, self._ids)
                yield body
                body.finish()
        except sqlite3.Error as exc:
            self._ids.clear()  # a rolled-back creation must not leave its id behind
            raise StoreError(f"the store could not commit: {exc}") from exc

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """One read transaction, so that several reads see one state."""
        self.conn.execute("BEGIN")
        try:
            yield self.conn
        finally:
            self.conn.execute("COMMIT")

    def _zid(self, origin: dns.name.Name) -> int | None:
        return zone_rows.zone_id(self.conn, origin)

    def zone_names(self) -> list[str]:
        return zone_rows.names(self.conn)

    def load_zone(self, origin: dns.name.Name) -> StoredZone | None:
        with self._reading() as conn:
            zid = zone_rows.zone_id(conn, origin)
            if zid is None:
                return None
            snapshot = ZoneSnapshot.from_rows(origin, records.rows(conn, zid))
            return StoredZone(snapshot, zone_rows.position(conn, zid))

    def load_zones(self, origins: Iterable[dns.name.Name]) -> dict[dns.name.Name, StoredZone]:
        wanted = {lower_text(origin): origin for origin in origins}
        out: dict[dns.name.Name, StoredZone] = {}
        with self._reading() as conn:
            found = {
                zid: (wanted[name], int(seq))
                for zid, name, seq in conn.execute("SELECT id, name, journal_seq FROM zone")
                if name in wanted
            }
            # Every zone's rows in one pass of the index, zone after zone: each
            # zone takes as many rows as it has (islice: no per-row work here).
            rows = records.all_rows(conn)
            for zid, count in records.counts(conn):
                mine = islice(rows, count)
                zone = found.get(zid)
                if zone is None:
                    deque(mine, maxlen=0)  # not wanted: skip its rows
                    continue
                origin, position = zone
                out[origin] = StoredZone(ZoneSnapshot.from_rows(origin, mine), position)
        return out

    def soa_serial(self, origin: dns.name.Name) -> int | None:
        zid = self._zid(origin)
        return None if zid is None else records.serial(self.conn, zid, origin)

    def file_state(self, origin: dns.name.Name) -> FileState | None:
        zid = self._zid(origin)
        return None if zid is None else zone_rows.file_state(self.conn, zid)

    def file_states(self) -> dict[str, FileState]:
        return zone_rows.file_states(self.conn)

    def file_records(self, origin: dns.name.Name) -> list[Record]:
        zid = self._zid(origin)
        return [] if zid is None else records.load(self.conn, zid, "file_record")

    def journal(self, origin: dns.name.Name, last: int | None = None) -> list[JournalEntry]:
        zid = self._zid(origin)
        return [] if zid is None else journal.entries(self.conn, zid, last)

    def journal_since(self, origin: dns.name.Name, serial: int) -> list[JournalEntry]:
        zid = self._zid(origin)
        return [] if zid is None else journal.since(self.conn, zid, serial)

    def positions(self) -> dict[dns.name.Name, int]:
        return zone_rows.positions(self.conn)

    def journal_after(self, origin: dns.name.Name, position: int) -> list[JournalEntry]:
        zid = self._zid(origin)
        return [] if zid is None else journal.after(self.conn, zid, position)

    def version(self) -> int:
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def identity(self, name: str) -> tuple[str, Identity] | None:
        return identities.get(self.conn, name)

    def grants(self, name: str) -> tuple[Grant, ...]:
        return identities.grants(self.conn, name)

    def identities_version(self) -> int:
        row = self.conn.execute("SELECT value FROM counter WHERE name = 'identities'").fetchone()
        return int(row[0])

    def identities(self, prefix: str) -> list[IdentityRow]:
        return [IdentityRow(*row) for row in identities.rows(self.conn, prefix)]

    def identity_row(self, name: str) -> IdentityRow | None:
        found = identities.row(self.conn, name)
        return None if found is None else IdentityRow(*found)

    def secrets(self, prefix: str) -> list[tuple[str, str, str]]:
        return identities.with_algorithm(self.conn, prefix)

    def expired(self, now: float, most: int = 1000) -> list[Expired]:
        return expiries.expired(self.conn, now, most)

    def backup(self, target: Path) -> dict[str, int]:
        return backup_store(self.conn, target)

    def close(self) -> None:
        self.conn.close()


def open_sqlite(data_dir: Path) -> SqliteStore:
    """Open (creating and migrating if needed) the store in ``data_dir``."""
    try:
        return SqliteStore(data_dir)
    except sqlite3.Error as exc:  # pragma: no cover - connect() already says why
        raise StoreError(str(exc)) from None
