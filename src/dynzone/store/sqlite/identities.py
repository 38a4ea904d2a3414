"""Rows of the ``identity`` and ``permission`` tables."""

from __future__ import annotations

import sqlite3
import time

import dns.rdatatype

from dynzone.policy import Grant, Identity


def get(conn: sqlite3.Connection, name: str) -> tuple[str, Identity] | None:
    """The stored secret (a hash) and the identity with its grants, if it exists."""
    row = conn.execute("SELECT secret FROM identity WHERE name = ?", (name,)).fetchone()
    if row is None:
        return None
    return row[0], Identity(name, grants(conn, name))


def grants(conn: sqlite3.Connection, name: str) -> tuple[Grant, ...]:
    rows = conn.execute(
        "SELECT pattern, types, ipv6_suffix FROM permission WHERE identity = ? ORDER BY rowid",
        (name,),
    )
    return tuple(
        Grant(p, frozenset(int(dns.rdatatype.from_text(t)) for t in types.split()), suffix)
        for p, types, suffix in rows
    )


def add(
    conn: sqlite3.Connection,
    name: str,
    secret: str,
    grant_list: list[Grant],
    origin: str = "",
    algorithm: str = "",
    allow_from: str = "",
    expires: float | None = None,
) -> None:
    conn.execute(
        "INSERT INTO identity (name, secret, created, origin, algorithm, allow_from, expires)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (name, secret, time.time(), origin, algorithm, allow_from, expires),
    )
    conn.executemany(
        "INSERT INTO permission (identity, pattern, types, ipv6_suffix) VALUES (?, ?, ?, ?)",
        (
            (
                name,
                g.pattern,
                " ".join(
                    sorted(dns.rdatatype.to_text(dns.rdatatype.RdataType.make(t)) for t in g.types)
                ),
                g.ipv6_suffix,
            )
            for g in grant_list
        ),
    )


def remove(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("DELETE FROM identity WHERE name = ?", (name,)).rowcount > 0


def set_secret(conn: sqlite3.Connection, name: str, secret: str) -> bool:
    cur = conn.execute("UPDATE identity SET secret = ? WHERE name = ?", (secret, name))
    return cur.rowcount > 0


_ROW = "SELECT name, created, origin, algorithm, allow_from, expires FROM identity"
Row = tuple[str, float, str, str, str, float | None]


def rows(conn: sqlite3.Connection, prefix: str) -> list[Row]:
    """(name, created, origin, algorithm, allow_from, expires) of every identity whose
    name starts with ``prefix``."""
    found = conn.execute(_ROW + " WHERE name LIKE ? || '%' ORDER BY name", (prefix,))
    return [tuple(row) for row in found]


def row(conn: sqlite3.Connection, name: str) -> Row | None:
    """The identity ``name`` as ``rows`` gives it, if it exists."""
    found = conn.execute(_ROW + " WHERE name = ?", (name,)).fetchone()
    return None if found is None else tuple(found)


def with_algorithm(conn: sqlite3.Connection, prefix: str) -> list[tuple[str, str, str]]:
    """(name, algorithm, secret) of every identity whose name starts with ``prefix``."""
    rows = conn.execute(
        "SELECT name, algorithm, secret FROM identity WHERE name LIKE ? || '%' ORDER BY name",
        (prefix,),
    )
    return [(n, a, s) for n, a, s in rows]
