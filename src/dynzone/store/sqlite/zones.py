"""Rows of the ``zone`` table: which zones the store holds, their file state and
journal position."""

from __future__ import annotations

import json
import sqlite3

import dns.name

from dynzone.store.base import FileState
from dynzone.zones.names import lower_text


def zone_id(conn: sqlite3.Connection, name: dns.name.Name) -> int | None:
    row = conn.execute("SELECT id FROM zone WHERE name = ?", (lower_text(name),)).fetchone()
    return None if row is None else int(row[0])


def create(conn: sqlite3.Connection, name: dns.name.Name) -> int:
    cur = conn.execute("INSERT INTO zone (name) VALUES (?)", (lower_text(name),))
    assert cur.lastrowid is not None
    return cur.lastrowid


def names(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM zone ORDER BY name")]


def next_seq(conn: sqlite3.Connection, zid: int) -> int:
    """The zone's next journal sequence number, taken from its own row.

    Correct because a write transaction holds its zone exclusively; no
    MAX(seq) over the journal is needed.
    """
    row = conn.execute(
        "UPDATE zone SET journal_seq = journal_seq + 1 WHERE id = ? RETURNING journal_seq", (zid,)
    ).fetchone()
    return int(row[0])


def position(conn: sqlite3.Connection, zid: int) -> int:
    return int(conn.execute("SELECT journal_seq FROM zone WHERE id = ?", (zid,)).fetchone()[0])


def positions(conn: sqlite3.Connection) -> dict[dns.name.Name, int]:
    rows = conn.execute("SELECT name, journal_seq FROM zone")
    return {dns.name.from_text(name): int(seq) for name, seq in rows}


def file_state(conn: sqlite3.Connection, zid: int) -> FileState | None:
    row = conn.execute("SELECT file_state FROM zone WHERE id = ?", (zid,)).fetchone()
    if row is None or row[0] is None:
        return None
    return _decoded(row[0])


def file_states(conn: sqlite3.Connection) -> dict[str, FileState]:
    rows = conn.execute("SELECT name, file_state FROM zone WHERE file_state IS NOT NULL")
    return {name: _decoded(text) for name, text in rows}


def _decoded(text: str) -> FileState:
    return [(p, h) for p, h in json.loads(text)]


def set_file_state(conn: sqlite3.Connection, zid: int, state: FileState | None) -> None:
    text = None if state is None else json.dumps(state)
    conn.execute("UPDATE zone SET file_state = ? WHERE id = ?", (text, zid))
