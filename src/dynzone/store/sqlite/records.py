"""Rows of the ``record`` and ``file_record`` tables, to and from dnspython objects.

Rdata is kept in uncompressed wire format: loading a zone from the store then
costs a wire parse per record instead of a zone-file tokenizer pass.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from dynzone.zones.names import lower_text, text_of
from dynzone.zones.snapshot import StoredRow
from dynzone.zones.trusted_rdata import rdata_from_wire, stored_name
from dynzone.zones.wire import rdata_wire
from dynzone.zones.zone_rows import ZoneRows
from dynzone.zones.zonefile import Record

_TABLES = ("record", "file_record")


def from_row(owner: str, rdtype: int, ttl: int, wire: bytes) -> Record:
    rdata = dns.rdata.from_wire(dns.rdataclass.IN, _type(rdtype), wire, 0, len(wire))
    return Record(dns.name.from_text(owner), ttl, rdata)


def load(conn: sqlite3.Connection, zone_id: int, table: str = "record") -> list[Record]:
    """Every record of a zone (or of its last imported file)."""
    assert table in _TABLES
    rows = conn.execute(
        f"SELECT owner, rdtype, ttl, rdata FROM {table} WHERE zone_id = ?", (zone_id,)
    )
    names: dict[str, dns.name.Name] = {}
    out = []
    # Everything here was written by dynzone from valid records: names and
    # addresses are made without dnspython's checks (trusted_rdata.py), the
    # rest by dnspython from the wire.
    for owner, rdtype, ttl, wire in rows:
        name = names.get(owner)
        if name is None:
            name = names[owner] = stored_name(owner)
        rdata = rdata_from_wire(rdtype, wire, 0, len(wire), remember=False)
        out.append(Record(name, ttl, rdata))
    return out


def rows(conn: sqlite3.Connection, zone_id: int) -> Iterator[StoredRow]:
    """Every record of a zone as stored, ordered by owner key and type (the
    order ``ZoneSnapshot.from_rows`` packs RRsets in, which the index gives)."""
    return conn.execute(
        "SELECT owner_key, owner, rdtype, ttl, rdata FROM record WHERE zone_id = ?"
        " ORDER BY owner_key, rdtype",
        (zone_id,),
    )


def all_rows(conn: sqlite3.Connection) -> Iterator[StoredRow]:
    """Every zone's records, zone after zone in the order of ``counts``, each
    zone's as ``rows`` orders them (the index gives this order)."""
    return conn.execute(
        "SELECT owner_key, owner, rdtype, ttl, rdata FROM record"
        " ORDER BY zone_id, owner_key, rdtype"
    )


def counts(conn: sqlite3.Connection) -> list[tuple[int, int]]:
    """(zone id, number of records) of every zone with records, by zone id."""
    return conn.execute(
        "SELECT zone_id, count(*) FROM record GROUP BY zone_id ORDER BY zone_id"
    ).fetchall()


def insert(
    conn: sqlite3.Connection, zone_id: int, records: Iterable[Record], table: str = "record"
) -> None:
    insert_rows(conn, zone_id, ZoneRows.of_records(records).rows, table)


def insert_rows(
    conn: sqlite3.Connection, zone_id: int, rows: Sequence[StoredRow], table: str = "record"
) -> None:
    """Add rows (owner key, owner, type, TTL, rdata) to a zone."""
    assert table in _TABLES
    if len(rows) > _MANY:
        # A big zone's rows go in as they are, with no tuple made per row:
        # its id is written into the statement (an int from the store
        # itself), and each statement takes _CHUNK rows, so that SQLite's
        # per-statement work (a step, a reset, the GIL let go and taken back)
        # is paid once per chunk rather than once per row: a fifth less time.
        values = f"({int(zone_id)}, ?, ?, ?, ?, ?)"
        head = f"INSERT INTO {table} (zone_id, owner_key, owner, rdtype, ttl, rdata) VALUES "
        whole = len(rows) - len(rows) % _CHUNK
        chunks = (tuple(_flat(rows[at : at + _CHUNK])) for at in range(0, whole, _CHUNK))
        conn.executemany(head + ", ".join([values] * _CHUNK), chunks)
        conn.executemany(head + values, rows[whole:])
        return
    # Small zones share one prepared statement (a start may import thousands).
    conn.executemany(
        f"INSERT INTO {table} (zone_id, owner_key, owner, rdtype, ttl, rdata)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(zone_id, *row) for row in rows],
    )


_MANY = 10_000  # rows from which statements of the zone's own pay for themselves
_CHUNK = 100  # rows per statement then (100 did better than 500)
_flat = itertools.chain.from_iterable


def copy_to_file_records(conn: sqlite3.Connection, zone_id: int) -> None:
    """Make the zone's file records a copy of its records (in SQL, row for row)."""
    conn.execute("DELETE FROM file_record WHERE zone_id = ?", (zone_id,))
    conn.execute(
        "INSERT INTO file_record (zone_id, owner_key, owner, rdtype, ttl, rdata)"
        " SELECT zone_id, owner_key, owner, rdtype, ttl, rdata FROM record WHERE zone_id = ?",
        (zone_id,),
    )


def replace_all(
    conn: sqlite3.Connection, zone_id: int, rows: Sequence[StoredRow], table: str
) -> None:
    assert table in _TABLES
    conn.execute(f"DELETE FROM {table} WHERE zone_id = ?", (zone_id,))
    insert_rows(conn, zone_id, rows, table)


def rrset(conn: sqlite3.Connection, zone_id: int, name: dns.name.Name, rdtype: int) -> list[Record]:
    """The records of one RRset (empty if there is none)."""
    rows = conn.execute(
        "SELECT owner, rdtype, ttl, rdata FROM record"
        " WHERE zone_id = ? AND owner_key = ? AND rdtype = ?",
        (zone_id, lower_text(name), rdtype),
    )
    return [from_row(*row) for row in rows]


def serial(conn: sqlite3.Connection, zone_id: int, origin: dns.name.Name) -> int | None:
    """The stored SOA serial of the zone at ``origin`` (one row read, not the zone)."""
    soa = rrset(conn, zone_id, origin, dns.rdatatype.SOA)
    return int(soa[0].rdata.serial) if soa else None  # type: ignore[attr-defined]


def types_at(conn: sqlite3.Connection, zone_id: int, name: dns.name.Name) -> set[int]:
    """The record types present at a name."""
    rows = conn.execute(
        "SELECT DISTINCT rdtype FROM record WHERE zone_id = ? AND owner_key = ?",
        (zone_id, lower_text(name)),
    )
    return {r[0] for r in rows}


def write_rrset(
    conn: sqlite3.Connection,
    zone_id: int,
    name: dns.name.Name,
    rdtype: int,
    ttl: int,
    rdatas: Iterable[dns.rdata.Rdata],
) -> None:
    """Replace one RRset (an empty ``rdatas`` deletes it)."""
    owner = text_of(name)
    key = owner.lower()
    wires = [rdata_wire(rd) for rd in rdatas]
    if len(wires) == 1:
        # One record for one (an SOA, most addresses): rewrite the row in place.
        cur = conn.execute(
            "UPDATE record SET owner = ?, ttl = ?, rdata = ?"
            " WHERE zone_id = ? AND owner_key = ? AND rdtype = ?",
            (owner, ttl, wires[0], zone_id, key, rdtype),
        )
        if cur.rowcount == 1:
            return
        if cur.rowcount == 0:
            # A new RRset (a new host, most often): nothing to delete first.
            conn.execute(
                "INSERT INTO record (zone_id, owner_key, owner, rdtype, ttl, rdata)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (zone_id, key, owner, rdtype, ttl, wires[0]),
            )
            return
    conn.execute(
        "DELETE FROM record WHERE zone_id = ? AND owner_key = ? AND rdtype = ?",
        (zone_id, key, rdtype),
    )
    conn.executemany(
        "INSERT INTO record (zone_id, owner_key, owner, rdtype, ttl, rdata)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(zone_id, key, owner, rdtype, ttl, wire) for wire in wires],
    )


def _type(value: int) -> dns.rdatatype.RdataType:
    return dns.rdatatype.RdataType.make(value)
