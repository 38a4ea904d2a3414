"""Query counts for /metrics: by transport, type, zone and rcode, folded or not."""

from __future__ import annotations

import dns.message
import dns.rcode
import pytest

from dynzone.dns import stats as stats_module
from dynzone.dns.stats import QueryStats

NOERROR, NXDOMAIN = int(dns.rcode.NOERROR), int(dns.rcode.NXDOMAIN)


def _zone_of(name: bytes) -> str:
    return "example.com." if name.endswith(b"\x07example\x03com\x00") else ""


def _key(name: str, qtype: str) -> bytes:
    return dns.message.make_query(name, qtype).to_wire()[2:]


def test_queries_are_counted_by_transport_type_zone_and_rcode() -> None:
    stats = QueryStats(_zone_of)
    udp, tcp = stats.tally(False), stats.tally(True)
    www = _key("www.Example.com", "A")
    udp.first(www, NOERROR)
    udp.counts[www] += 2  # two answers from the whole-reply cache
    tcp.note(www, NOERROR)
    udp.note(_key("nope.example.com", "AAAA"), NXDOMAIN)
    udp.note(_key("elsewhere.org", "A"), int(dns.rcode.REFUSED))
    totals = stats.totals()
    assert totals[(False, 1, "example.com.", NOERROR)] == 3
    assert totals[(True, 1, "example.com.", NOERROR)] == 1
    assert totals[(False, 28, "example.com.", NXDOMAIN)] == 1
    assert totals[(False, 1, "", 5)] == 1


def test_a_name_whose_answer_changes_keeps_its_earlier_counts_under_the_old_rcode() -> None:
    stats = QueryStats(_zone_of)
    udp = stats.tally(False)
    new = _key("new.example.com", "A")
    udp.first(new, NXDOMAIN)
    udp.counts[new] += 4  # five NXDOMAIN answers
    udp.note(new, NOERROR)  # an update created the name
    udp.counts[new] += 1
    totals = stats.totals()
    assert totals[(False, 1, "example.com.", NXDOMAIN)] == 5
    assert totals[(False, 1, "example.com.", NOERROR)] == 2


def test_folding_many_distinct_names_keeps_every_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats_module, "FOLD_AT", 10)
    stats = QueryStats(_zone_of)
    udp = stats.tally(False)
    for i in range(25):
        udp.note(_key(f"r{i}.example.com", "A"), NXDOMAIN)
        stats.fold_if_full(udp)
    assert len(udp.counts) < 10 and udp.folded
    assert stats.totals()[(False, 1, "example.com.", NXDOMAIN)] == 25
