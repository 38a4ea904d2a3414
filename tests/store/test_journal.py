"""The journal keeps records exactly: names in rdata stay absolute."""

from __future__ import annotations

from pathlib import Path

import dns.name
import dns.rdata

from dynzone.store import journal
from dynzone.store import zones as zone_rows
from dynzone.store.sqlite import connect, transaction
from dynzone.zones.zonefile import Record


def test_records_read_back_equal_what_was_written(tmp_path: Path) -> None:
    conn = connect(tmp_path)
    name = dns.name.from_text("example.com")
    written = [
        Record(
            dns.name.from_text("acme.example.com"),
            300,
            dns.rdata.from_text("IN", "NS", "ns2.example.com."),
        ),
        Record(name, 60, dns.rdata.from_text("IN", "MX", "10 mail.example.net.")),
        Record(dns.name.from_text("t.example.com"), 60, dns.rdata.from_text("IN", "TXT", '"a b"')),
    ]
    with transaction(conn):
        zid = zone_rows.create(conn, name)
        journal.append(conn, zid, 1, 2, written[:1], written[1:], "key:k", "127.0.0.1", 0.0, 10)
    [entry] = journal.entries(conn, zid)
    assert entry.removed + entry.added == written
    assert entry.added[0].rdata.to_text() == "10 mail.example.net."
