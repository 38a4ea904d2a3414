"""Condensing journal entries into one IXFR difference, and following their chain."""

from __future__ import annotations

import dns.name
import dns.rdata

from dynzone.store.base import JournalEntry as Entry
from dynzone.xfr.ixfr import chain, condense
from dynzone.zones.zonefile import Record

ORIGIN = dns.name.from_text("example.com")


def rec(name: str, rdtype: str, text: str, ttl: int = 300) -> Record:
    return Record(
        dns.name.from_text(name, ORIGIN),
        ttl,
        dns.rdata.from_text("IN", rdtype, text, origin=ORIGIN),
    )


def soa(serial: int) -> Record:
    return rec("@", "SOA", f"ns1 hostmaster {serial} 3600 600 86400 60")


def entry(serial: int, removed: list[Record], added: list[Record]) -> Entry:
    return Entry(
        serial, serial, serial + 1, [soa(serial), *removed], [soa(serial + 1), *added], "t", "", 0
    )


def test_a_record_added_then_removed_cancels_out() -> None:
    diff = condense(
        [entry(1, [], [rec("a", "A", "192.0.2.1")]), entry(2, [rec("a", "A", "192.0.2.1")], [])]
    )
    assert diff.old_soa == soa(1)
    assert diff.removed == [] and diff.added == []


def test_a_record_removed_then_added_back_cancels_out() -> None:
    old = rec("www", "A", "192.0.2.1")
    diff = condense([entry(1, [old], []), entry(2, [], [old])])
    assert diff.removed == [] and diff.added == []


def test_a_replaced_value_keeps_only_the_first_and_last() -> None:
    one, two, three = (rec("h", "TXT", f'"{v}"') for v in ("one", "two", "three"))
    diff = condense([entry(1, [one], [two]), entry(2, [two], [three])])
    assert diff.removed == [one] and diff.added == [three]


def test_a_ttl_change_stays_a_removal_and_an_addition() -> None:
    short, long_ = rec("h", "A", "192.0.2.1", 60), rec("h", "A", "192.0.2.1", 3600)
    diff = condense([entry(1, [short], [long_])])
    assert diff.removed == [short] and diff.added == [long_]


def test_the_soa_records_are_kept_out_of_the_difference() -> None:
    diff = condense([entry(7, [], []), entry(8, [], [])])
    assert diff.old_soa == soa(7) and diff.removed == [] and diff.added == []


def test_chain_follows_serials_and_stops_at_the_snapshot() -> None:
    entries = [entry(1, [], []), entry(2, [], []), entry(3, [], [])]
    assert chain(entries, 1, 3) == entries[:2]  # entry 3 -> 4 is newer than the snapshot
    assert chain(entries, 1, 4) == entries


def test_chain_refuses_a_gap_or_a_serial_it_cannot_reach() -> None:
    assert chain([entry(1, [], []), entry(3, [], [])], 1, 4) is None
    assert chain([entry(1, [], [])], 1, 5) is None
    assert chain([], 1, 2) is None
