"""A consistent copy of the store while it is in use, and putting one back.

``backup`` uses SQLite's online backup: it reads one snapshot of the
database (WAL readers do not block the writer, nor it them), so the copy
holds every zone, journal and identity as of one commit. ``restore`` checks
a copy (that it is a dynzone store this version can read, and intact) and
writes it into a data directory that has no store yet. Both files are 0600:
they hold TSIG secrets and password hashes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dynzone.data_dir import create_private, make_private
from dynzone.store.base import StoreError
from dynzone.store.sqlite.connection import db_path
from dynzone.store.sqlite.migrations import LATEST


def backup(conn: sqlite3.Connection, target: Path) -> dict[str, int]:
    """Copy the store behind ``conn`` to the new file ``target``; each zone's serial in it."""
    if target.exists():
        raise StoreError(f"{target}: already exists; give a new file name")
    try:
        create_private(target)
        dest = sqlite3.connect(target)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"{target}: cannot write the backup: {exc}") from None
    try:
        conn.backup(dest)  # all pages in one step: one consistent snapshot
        dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        return _serials(dest)
    except sqlite3.Error as exc:
        dest.close()
        target.unlink(missing_ok=True)
        raise StoreError(f"{target}: the backup failed: {exc}") from None
    finally:
        dest.close()


def restore(source: Path, data_dir: Path) -> dict[str, int]:
    """Put the backup ``source`` in place as ``data_dir``'s store; each zone's serial."""
    target = db_path(data_dir)
    if target.exists() and target.stat().st_size > 0:
        raise StoreError(
            f"{target}: a store is already there; restore only into an empty data_dir"
            " (move that one away first)"
        )
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"{source}: cannot open the backup: {exc}") from None
    try:
        _check(src, source)
        make_private(data_dir)
        create_private(target)
        dest = sqlite3.connect(target)
        try:
            src.backup(dest)
            dest.execute("PRAGMA journal_mode=WAL")
            return _serials(dest)
        finally:
            dest.close()
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise StoreError(f"{source}: cannot restore it: {exc}") from None
    finally:
        src.close()


def _check(src: sqlite3.Connection, source: Path) -> None:
    try:
        version = src.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError:
        raise StoreError(f"{source}: not a dynzone backup (not an SQLite database)") from None
    if not {"zone", "record", "journal", "identity"} <= tables or version < 1:
        raise StoreError(f"{source}: not a dynzone backup (no dynzone tables in it)")
    if version > LATEST:
        raise StoreError(
            f"{source}: written by a newer dynzone (schema {version}, this one reads up to"
            f" {LATEST}); restore it with that version"
        )
    problems = src.execute("PRAGMA integrity_check").fetchone()[0]
    if problems != "ok":
        raise StoreError(f"{source}: the backup is damaged: {problems}")


def _serials(conn: sqlite3.Connection) -> dict[str, int]:
    """Each zone's SOA serial, read from its SOA record's wire form."""
    out = {}
    rows = conn.execute(
        "SELECT zone.name, record.rdata FROM zone JOIN record ON record.zone_id = zone.id"
        " WHERE record.rdtype = 6 AND record.owner_key = zone.name ORDER BY zone.name"
    )
    for name, rdata in rows:
        out[name] = int.from_bytes(rdata[-20:-16], "big")
    return out
