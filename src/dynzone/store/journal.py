"""The change journal: one entry per committed change to a zone.

An entry holds the serials before and after, the records removed and added
(the SOA included, as IXFR wants them), who made the change, from where, and
when. Records are kept in presentation format so the journal reads as an
audit log with ``dynzone zone journal``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from dynzone.zones.zonefile import Record


@dataclass(frozen=True)
class Entry:
    seq: int
    serial_from: int
    serial_to: int
    removed: list[Record]
    added: list[Record]
    identity: str
    source: str
    time: float


def _encode(records: list[Record]) -> str:
    return json.dumps(
        [
            [r.name.to_text(), r.ttl, dns.rdatatype.to_text(r.rdata.rdtype), r.rdata.to_text()]
            for r in records
        ]
    )


def _decode(text: str) -> list[Record]:
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
    serial_from: int,
    serial_to: int,
    removed: list[Record],
    added: list[Record],
    identity: str,
    source: str,
    when: float,
    limit: int,
) -> int:
    """Add an entry and drop the oldest beyond ``limit``; returns the entry's seq."""
    row = conn.execute("SELECT MAX(seq) FROM journal WHERE zone_id = ?", (zone_id,)).fetchone()
    seq = (row[0] or 0) + 1
    conn.execute(
        "INSERT INTO journal (zone_id, seq, serial_from, serial_to, removed, added,"
        " identity, source, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            zone_id,
            seq,
            serial_from,
            serial_to,
            _encode(removed),
            _encode(added),
            identity,
            source,
            when,
        ),
    )
    conn.execute("DELETE FROM journal WHERE zone_id = ? AND seq <= ?", (zone_id, seq - limit))
    return seq


def entries(conn: sqlite3.Connection, zone_id: int, last: int | None = None) -> list[Entry]:
    """The journal of a zone, oldest first (only the ``last`` N if given)."""
    sql = (
        "SELECT seq, serial_from, serial_to, removed, added, identity, source, time"
        " FROM journal WHERE zone_id = ? ORDER BY seq DESC"
    )
    params: tuple[int, ...] = (zone_id,)
    if last is not None:
        sql += " LIMIT ?"
        params = (zone_id, last)
    rows = conn.execute(sql, params).fetchall()
    return [
        Entry(seq, sf, st, _decode(rm), _decode(ad), ident, src, t)
        for seq, sf, st, rm, ad, ident, src, t in reversed(rows)
    ]


def since(conn: sqlite3.Connection, zone_id: int, serial: int) -> list[Entry]:
    """The entries from the last one that starts at ``serial`` to the newest (IXFR).

    Empty when no kept entry starts at ``serial``: the journal does not reach
    back that far (or the serial was never ours).
    """
    row = conn.execute(
        "SELECT MAX(seq) FROM journal WHERE zone_id = ? AND serial_from = ?", (zone_id, serial)
    ).fetchone()
    if row[0] is None:
        return []
    rows = conn.execute(
        "SELECT seq, serial_from, serial_to, removed, added, identity, source, time"
        " FROM journal WHERE zone_id = ? AND seq >= ? ORDER BY seq",
        (zone_id, row[0]),
    ).fetchall()
    return [
        Entry(seq, sf, st, _decode(rm), _decode(ad), ident, src, t)
        for seq, sf, st, rm, ad, ident, src, t in rows
    ]
