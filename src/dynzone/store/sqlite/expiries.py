"""Records that end: the ``record_expiry`` table (schema step 8).

A door that adds a record for a while (an acme-dns TXT value) sets its end
time in the same transaction; the sweeper (engine/expiry.py) reads the
records whose time has come and deletes them through the engine, clearing
their rows in that same transaction.
"""

from __future__ import annotations

import sqlite3

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from dynzone.store.base import Expired
from dynzone.zones.names import lower_text


def set_expiry(
    conn: sqlite3.Connection, zid: int, name: dns.name.Name, rdata: dns.rdata.Rdata, when: float
) -> None:
    conn.execute(
        "INSERT INTO record_expiry (zone_id, owner, rdtype, rdata, expires) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (zone_id, owner, rdtype, rdata) DO UPDATE SET expires = excluded.expires",
        (zid, lower_text(name), int(rdata.rdtype), rdata.to_wire(), when),
    )


def clear_expiry(
    conn: sqlite3.Connection, zid: int, name: dns.name.Name, rdata: dns.rdata.Rdata
) -> None:
    conn.execute(
        "DELETE FROM record_expiry WHERE zone_id = ? AND owner = ? AND rdtype = ? AND rdata = ?",
        (zid, lower_text(name), int(rdata.rdtype), rdata.to_wire()),
    )


def expired(conn: sqlite3.Connection, now: float, most: int) -> list[Expired]:
    rows = conn.execute(
        "SELECT zone.name, owner, rdtype, rdata, expires FROM record_expiry"
        " JOIN zone ON zone.id = record_expiry.zone_id"
        " WHERE expires <= ? ORDER BY expires LIMIT ?",
        (now, most),
    ).fetchall()
    out = []
    for zone, owner, rdtype, wire, expires in rows:
        rdata = dns.rdata.from_wire(
            dns.rdataclass.IN, dns.rdatatype.RdataType.make(rdtype), wire, 0, len(wire)
        )
        out.append(
            Expired(dns.name.from_text(zone), dns.name.from_text(owner), rdata, float(expires))
        )
    return out
