"""The PowerDNS-compatible API's parts that need no server: waiting for
secondaries, and the plan a PATCH body becomes."""

from __future__ import annotations

import asyncio
import time

import dns.name
import dns.rdatatype
import pytest

from dynzone.engine.access import may_read
from dynzone.engine.changeset import AddRecord, DeleteRecord, DeleteRRset, SetRRset
from dynzone.engine.settings import HostPort
from dynzone.http.pdns_api import ApiError, plan_patch, until_secondaries
from dynzone.policy import Grant, Identity
from tests.peers import free_port

ZONE = dns.name.from_text("example.com.")
LAB = Identity("token:lab", (Grant("*.lab.example.com.", frozenset({int(dns.rdatatype.A)})),))


def test_waiting_on_a_secondary_that_never_answers_ends_at_the_timeout() -> None:
    silent = HostPort("127.0.0.1", free_port())  # nothing listens there
    started = time.monotonic()
    current, report = asyncio.run(until_secondaries(ZONE, 7, (silent,), 0.5))
    took = time.monotonic() - started
    assert not current
    assert report["serial"] == 7
    [secondary] = report["secondaries"]
    assert secondary["address"] == str(silent) and secondary["current"] is False
    assert secondary["error"]
    assert took >= 0.5


def test_with_no_secondaries_there_is_nothing_to_wait_for() -> None:
    current, report = asyncio.run(until_secondaries(ZONE, 7, (), 5.0))
    assert current and report["secondaries"] == []


def rrset(name: str, change: str, *contents: str, rdtype: str = "A") -> dict[str, object]:
    records = [{"content": c, "disabled": False} for c in contents]
    return {"name": name, "type": rdtype, "ttl": 60, "changetype": change, "records": records}


def test_a_patch_body_becomes_one_op_per_change() -> None:
    body = {
        "rrsets": [
            rrset("a.lab.example.com.", "REPLACE", "192.0.2.1", "192.0.2.2"),
            rrset("b.lab.example.com.", "REPLACE"),  # no records: the RRset goes
            rrset("c.lab.example.com.", "DELETE"),
            rrset("d.lab.example.com.", "EXTEND", "192.0.2.4"),
            rrset("e.lab.example.com.", "PRUNE", "192.0.2.5"),
        ]
    }
    ops = plan_patch(body, ZONE, LAB)
    assert [type(op) for op in ops] == [SetRRset, DeleteRRset, DeleteRRset, AddRecord, DeleteRecord]
    assert isinstance(ops[0], SetRRset) and [str(r) for r in ops[0].rdatas] == [
        "192.0.2.1",
        "192.0.2.2",
    ]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"rrsets": "x"}, 400, "rrsets"),
        ({"rrsets": [rrset("a.lab.example.com", "REPLACE", "192.0.2.1")]}, 422, "absolute"),
        ({"rrsets": [rrset("a.other.net.", "REPLACE", "192.0.2.1")]}, 422, "not in zone"),
        ({"rrsets": [rrset("a.lab.example.com.", "MERGE", "192.0.2.1")]}, 422, "changetype"),
        ({"rrsets": [rrset("www.example.com.", "REPLACE", "192.0.2.1")]}, 403, "may not change"),
        ({"rrsets": [rrset("example.com.", "REPLACE", "x", rdtype="SOA")]}, 422, "SOA"),
        ({"rrsets": [rrset("a.lab.example.com.", "REPLACE", "1.2.3")]}, 422, "1.2.3"),
        ({"rrsets": []}, 422, "no rrsets"),
    ],
)
def test_a_bad_patch_is_refused_with_powerdns_status(body: object, status: int, words: str) -> None:
    with pytest.raises(ApiError) as refused:
        plan_patch(body, ZONE, LAB)
    assert refused.value.status == status and words in refused.value.message


def test_a_token_sees_the_zones_its_grants_reach_and_one_without_grants_sees_all() -> None:
    assert may_read(LAB, ZONE)
    assert not may_read(LAB, dns.name.from_text("other.net."))
    assert may_read(Identity("token:reader", ()), dns.name.from_text("other.net."))
