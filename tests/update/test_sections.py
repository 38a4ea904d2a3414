"""Reading an UPDATE's sections: the RFC 2136 forms, FORMERR and NOTZONE."""

from __future__ import annotations

import struct

import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.update
import pytest

from dynzone.update.message import UpdateMessage, from_message
from dynzone.update.sections import (
    Action,
    Need,
    UpdateError,
    check_ttls,
    read_changes,
    read_prerequisites,
)

ZONE = dns.name.from_text("example.com")


def in_zone(name: dns.name.Name) -> bool:
    return name.is_subdomain(ZONE) and not name.is_subdomain(dns.name.from_text("sub.example.com"))


def parsed(msg: dns.update.UpdateMessage) -> UpdateMessage:
    """As the server sees a message dnspython parsed: one record per RRset, in wire
    order (tests/update/test_message.py shows its own reader agrees)."""
    wire = msg.to_wire()
    return from_message(wire, dns.message.from_wire(wire, one_rr_per_rrset=True))


def n(text: str) -> dns.name.Name:
    return dns.name.from_text(text)


def test_the_five_prerequisite_forms() -> None:
    msg = dns.update.UpdateMessage(ZONE)
    msg.present(n("a.example.com"))
    msg.present(n("b.example.com"), "A")
    msg.absent(n("c.example.com"))
    msg.absent(n("d.example.com"), "TXT")
    msg.present(n("e.example.com"), "A", "192.0.2.1", "192.0.2.2")
    got = read_prerequisites(parsed(msg).prerequisites, in_zone)
    assert [(p.need, p.name.to_text()) for p in got] == [
        (Need.NAME_IN_USE, "a.example.com."),
        (Need.RRSET_EXISTS, "b.example.com."),
        (Need.NAME_NOT_IN_USE, "c.example.com."),
        (Need.RRSET_ABSENT, "d.example.com."),
        (Need.RRSET_EQUALS, "e.example.com."),
    ]
    # The value-dependent records of one RRset are compared as one set.
    assert {rd.to_text() for rd in got[-1].rdatas} == {"192.0.2.1", "192.0.2.2"}


def test_the_four_update_forms_keep_their_order() -> None:
    msg = dns.update.UpdateMessage(ZONE)
    msg.add(n("a.example.com"), 60, "A", "192.0.2.1")
    msg.delete(n("a.example.com"), "A", "192.0.2.1")
    msg.delete(n("a.example.com"), "A")
    msg.delete(n("a.example.com"))
    msg.add(n("a.example.com"), 60, "A", "192.0.2.2")
    got = read_changes(parsed(msg).updates, in_zone)
    assert [c.action for c in got] == [
        Action.ADD,
        Action.DELETE_RR,
        Action.DELETE_RRSET,
        Action.DELETE_NAME,
        Action.ADD,
    ]
    assert got[-1].rdata is not None and got[-1].rdata.to_text() == "192.0.2.2"


def _with(section: int, rrset: dns.rrset.RRset) -> UpdateMessage:
    msg = dns.update.UpdateMessage(ZONE)
    msg.sections[section].append(rrset)
    return parsed(msg)


def _rrset(name: str, rdclass: str, rdtype: str, ttl: int, *rdata: str) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(
        n(name), dns.rdataclass.from_text(rdclass), dns.rdatatype.from_text(rdtype)
    )
    rrset.ttl = ttl
    for text in rdata:
        rrset.add(dns.rdata.from_text(rrset.rdclass, rrset.rdtype, text))
    return rrset


@pytest.mark.parametrize(
    "rrset, rcode",
    [
        (_rrset("a.example.com", "CH", "TXT", 0, "x"), dns.rcode.FORMERR),  # class
        (_rrset("www.example.net", "IN", "A", 0, "192.0.2.1"), dns.rcode.NOTZONE),
        (_rrset("x.sub.example.com", "IN", "A", 0, "192.0.2.1"), dns.rcode.NOTZONE),
    ],
)
def test_bad_prerequisites(rrset: dns.rrset.RRset, rcode: int) -> None:
    with pytest.raises(UpdateError) as err:
        read_prerequisites(_with(1, rrset).prerequisites, in_zone)
    assert err.value.rcode == rcode


def _delete(name: str, rdtype: str, ttl: int, deleting: str) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(
        n(name),
        dns.rdataclass.IN,
        dns.rdatatype.from_text(rdtype),
        deleting=dns.rdataclass.from_text(deleting),
    )
    rrset.ttl = ttl
    return rrset


@pytest.mark.parametrize(
    "rrset, rcode",
    [
        (_rrset("www.example.net", "IN", "A", 60, "192.0.2.1"), dns.rcode.NOTZONE),
        (_rrset("a.example.com", "CH", "TXT", 60, "x"), dns.rcode.FORMERR),
        (_delete("a.example.com", "AXFR", 0, "ANY"), dns.rcode.FORMERR),
        (_delete("a.example.com", "MAILB", 0, "ANY"), dns.rcode.FORMERR),
    ],
)
def test_bad_updates(rrset: dns.rrset.RRset, rcode: int) -> None:
    with pytest.raises(UpdateError) as err:
        read_changes(_with(2, rrset).updates, in_zone)
    assert err.value.rcode == rcode


@pytest.mark.parametrize(
    "prereqs, updates, rdclass", [(1, 0, 1), (1, 0, 255), (1, 0, 254), (0, 1, 255), (0, 1, 254)]
)
def test_a_ttl_on_a_prerequisite_or_deletion_is_formerr(
    prereqs: int, updates: int, rdclass: int
) -> None:
    # dnspython writes TTL 0 for these forms and drops the TTL when reading
    # them, so the record is built by hand and checked on the wire.
    header = struct.pack("!HHHHHH", 1, 5 << 11, 1, prereqs, updates, 0)
    zone = n("example.com").to_wire() + struct.pack("!HH", 6, 1)
    record = n("a.example.com").to_wire() + struct.pack("!HHIH", 1, rdclass, 60, 0)
    with pytest.raises(UpdateError) as err:
        check_ttls(header + zone + record)
    assert err.value.rcode == dns.rcode.FORMERR
    check_ttls(header + zone + record.replace(struct.pack("!I", 60), struct.pack("!I", 0)))
