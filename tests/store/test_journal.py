"""The journal keeps records exactly (names in rdata stay absolute), and each zone
numbers its own entries."""

from __future__ import annotations

from pathlib import Path

import dns.name
import dns.rdata

from dynzone.store import open_store
from dynzone.zones.zonefile import Record


def test_records_read_back_equal_what_was_written(tmp_path: Path) -> None:
    store = open_store(tmp_path)
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
    with store.write() as txn:
        zone = txn.create_zone(name)
        zone.append_journal(1, 2, written[:1], written[1:], "key:k", "127.0.0.1", 0.0, 10)
    [entry] = store.journal(name)
    assert entry.removed + entry.added == written
    assert entry.added[0].rdata.to_text() == "10 mail.example.net."


def test_each_zone_numbers_its_entries_from_its_own_row_and_keeps_the_newest(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path)
    a, b = dns.name.from_text("a.test"), dns.name.from_text("b.test")
    with store.write() as txn:
        za, zb = txn.create_zone(a), txn.create_zone(b)
        seqs = [za.append_journal(i, i + 1, [], [], "x", "-", 0.0, 2) for i in range(3)]
        seqs.append(zb.append_journal(7, 8, [], [], "x", "-", 0.0, 2))
    assert seqs == [1, 2, 3, 1]
    assert [e.seq for e in store.journal(a)] == [2, 3]  # keep=2 dropped the oldest
    assert store.positions() == {a: 3, b: 1}
    assert [e.serial_from for e in store.journal_after(a, 2)] == [2]
