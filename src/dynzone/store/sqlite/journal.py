"""The change journal: one entry per committed change to a zone.

An entry holds the serials before and after, the records removed and added
(the SOA included, as IXFR wants them), who made the change, from where, and
when; ``dynzone zone journal`` prints it as an audit log.

Records are kept in wire form (``format`` 2, ``zones/wire.py``): a commit
encodes them at the cost of a copy rather than a presentation rendering.
Entries written before that (``format`` 1) hold JSON in presentation form,
and read back as ever.
"""

from __future__ import annotations

import json
import sqlite3

import dns.name
import dns.rdata
import dns.rdataclass

from dynzone.store.base import JournalEntry
from dynzone.zones.wire import decode_records, encode_records
from dynzone.zones.zonefile import Record

_COLUMNS = "seq, serial_from, serial_to, removed, added, identity, source, time, format"
_WIRE = 2  # the format of the entries written now


def _decode(stored: str | bytes, form: int) -> list[Record]:
    if form == _WIRE:
        assert isinstance(stored, bytes)
        return decode_records(stored)
    return _decode_json(str(stored))


def _decode_json(text: str) -> list[Record]:
    out = []
    for owner, ttl, rdtype, rdata in json.loads(text):
        rd = dns.rdata.from_text(
            dns.rdataclass.IN, rdtype, rdata, origin=dns.name.root, relativize=False
        )
        out.append(Record(dns.name.from_text(owner), int(ttl), rd))
    return out


def append(
    conn: sqlite3.Connection,
    zone_id: int,
    seq: int,
    serial_from: int,
    serial_to: int,
    removed: list[Record],
    added: list[Record],
    identity: str,
    source: str,
    when: float,
) -> None:
    """Add entry ``seq`` (the zone's next, from zones.next_seq); ``trim`` drops the
    oldest beyond the limit, once per transaction."""
    conn.execute(
        "INSERT INTO journal (zone_id, seq, serial_from, serial_to, removed, added,"
        " identity, source, time, format) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            zone_id,
            seq,
            serial_from,
            serial_to,
            encode_records(removed),
            encode_records(added),
            identity,
            source,
            when,
            _WIRE,
        ),
    )


def trim(conn: sqlite3.Connection, zone_id: int, keep: int) -> None:
    """Drop the zone's entries older than its newest ``keep``."""
    conn.execute(
        "DELETE FROM journal WHERE zone_id = ?"
        " AND seq <= (SELECT journal_seq FROM zone WHERE id = ?) - ?",
        (zone_id, zone_id, keep),
    )


def _entries(
    rows: list[tuple[int, int, int, str, str, str, str, float, int]],
) -> list[JournalEntry]:
    return [
        JournalEntry(seq, sf, st, _decode(rm, f), _decode(ad, f), ident, src, t)
        for seq, sf, st, rm, ad, ident, src, t, f in rows
    ]


def entries(conn: sqlite3.Connection, zone_id: int, last: int | None = None) -> list[JournalEntry]:
    """The journal of a zone, oldest first (only the ``last`` N if given)."""
    sql = f"SELECT {_COLUMNS} FROM journal WHERE zone_id = ? ORDER BY seq DESC"
    params: tuple[int, ...] = (zone_id,)
    if last is not None:
        sql += " LIMIT ?"
        params = (zone_id, last)
    rows = conn.execute(sql, params).fetchall()
    return _entries(rows[::-1])


def since(conn: sqlite3.Connection, zone_id: int, serial: int) -> list[JournalEntry]:
    """The entries from the last one that starts at ``serial`` to the newest (IXFR).

    Empty when no kept entry starts at ``serial``: the journal does not reach
    back that far (or the serial was never ours).
    """
    row = conn.execute(
        "SELECT MAX(seq) FROM journal WHERE zone_id = ? AND serial_from = ? AND serial_to != ?",
        (zone_id, serial, serial),
    ).fetchone()
    if row[0] is None:
        return []
    return after(conn, zone_id, row[0] - 1)


def after(conn: sqlite3.Connection, zone_id: int, seq: int) -> list[JournalEntry]:
    """The entries after ``seq``, oldest first."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM journal WHERE zone_id = ? AND seq > ? ORDER BY seq",
        (zone_id, seq),
    ).fetchall()
    return _entries(rows)
