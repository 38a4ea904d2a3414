"""Packing a transfer from wire bytes: the same records in the same order as
dnspython reads them back, every message under its limit, the question once,
names compressed against the zone's name."""

from __future__ import annotations

import random

import dns.message
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.renderer
import dns.rrset
import pytest

from dynzone.xfr import messages
from dynzone.xfr.packer import WireSet, pack, wire_set
from dynzone.zones.node import packed_rdatas
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.zonefile import Record

ORIGIN = dns.name.from_text("Example.com")
QUESTION = (dns.name.from_text("example.COM"), dns.rdatatype.AXFR, 1)


def rec(name: str, rdtype: str, text: str, ttl: int = 300) -> Record:
    return Record(
        dns.name.from_text(name, ORIGIN),
        ttl,
        dns.rdata.from_text("IN", rdtype, text, origin=ORIGIN, relativize=False),
    )


def varied_zone(hosts: int, seed: int = 14) -> ZoneSnapshot:
    rng = random.Random(seed)
    records = [rec("@", "SOA", "ns1 hostmaster 5 3600 600 86400 60"), rec("@", "NS", "ns1")]
    records += [rec("@", "MX", "10 mail"), rec("@", "TXT", '"v=spf1 -all"')]
    records += [rec("ns1", "A", "192.0.2.1"), rec("ns1", "AAAA", "2001:db8::1")]
    records += [rec("sub", "NS", "ns.sub"), rec("ns.sub", "A", "192.0.2.53")]  # glue
    records += [rec("_sip._tcp", "SRV", "10 60 5060 sip"), rec("www", "CNAME", "h1")]
    records += [rec("*.wild", "A", "192.0.2.80"), rec("deep.er.ent", "TXT", '"ent"')]
    records += [rec("caps.MiXeD", "A", "192.0.2.81", ttl=60)]
    records += [rec("big", "TXT", f'"{i:04d} {"x" * 200}"') for i in range(400)]
    for i in range(hosts):
        records.append(rec(f"h{i}", "A", f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"))
        if rng.random() < 0.3:
            records.append(rec(f"h{i}", "AAAA", f"2001:db8::{i >> 16:x}:{i & 0xFFFF:x}"))
        if rng.random() < 0.1:
            records.append(rec(f"h{i}", "TXT", f'"host {i}"', ttl=rng.choice((60, 3600))))
    return ZoneSnapshot(ORIGIN, records)


def read_back(wires: list[bytes]) -> list[tuple[bytes, int, int, int, bytes]]:
    """Every record of the messages as (owner wire, type, class, TTL, rdata wire),
    case kept, after dnspython parsed each message (so every pointer is valid)."""
    out = []
    for i, wire in enumerate(wires):
        msg = dns.message.from_wire(wire, one_rr_per_rrset=True)
        assert len(msg.question) == (1 if i == 0 else 0)
        out += [
            (r.name.to_wire(), r.rdtype, r.rdclass, r.ttl, rd.to_wire())
            for r in msg.answer
            for rd in r
        ]
    return out


def flat(sets: list[WireSet]) -> list[tuple[bytes, int, int, int, bytes]]:
    """The records of packed sets as ``read_back`` gives them."""
    return [
        (owner, rdtype, 1, int.from_bytes(packed[:4], "big"), packed[at : at + length])
        for owner, rdtype, packed in sets
        for at, length in packed_rdatas(packed)
    ]


def as_rrsets(sets: list[WireSet]) -> list[dns.rrset.RRset]:
    """The packed sets as dnspython RRsets (for dnspython's renderer)."""
    out = []
    for owner, rdtype, packed in sets:
        rrset = dns.rrset.RRset(dns.name.from_wire(owner, 0)[0], 1, rdtype)
        for at, length in packed_rdatas(packed):
            rd = dns.rdata.from_wire(1, rdtype, packed, at, length)
            rrset.add(rd, int.from_bytes(packed[:4], "big"))
        out.append(rrset)
    return out


def by_dnspython(rrsets: list[dns.rrset.RRset], size: int) -> int:
    """How many bytes dnspython's renderer needs for the same records (one
    message per ``size``, as the packer before this one did)."""
    total, renderer = 0, dns.renderer.Renderer(1, 0x8400, size)
    renderer.add_question(*QUESTION)
    for rrset in rrsets:
        for rd in rrset:
            one = dns.rrset.RRset(rrset.name, rrset.rdclass, rrset.rdtype)
            one.update_ttl(rrset.ttl)
            one.add(rd)
            try:
                renderer.add_rrset(dns.renderer.ANSWER, one)
            except dns.exception.TooBig:
                renderer.write_header()
                total += len(renderer.get_wire())
                renderer = dns.renderer.Renderer(1, 0x8400, size)
                renderer.add_rrset(dns.renderer.ANSWER, one)
    renderer.write_header()
    return total + len(renderer.get_wire())


@pytest.mark.parametrize("size", [65535, 16000, 1400])
def test_an_axfr_reads_back_as_the_very_records_in_order_under_the_limit(size: int) -> None:
    zone = varied_zone(3000)
    sets = list(messages.axfr_sets(zone))
    wires = list(pack(sets, 7, 0x8400, QUESTION, size))
    assert all(len(w) <= size for w in wires)
    assert all(w[:2] == b"\x00\x07" for w in wires)
    assert read_back(wires) == flat(sets)
    assert read_back(wires)[0][1] == read_back(wires)[-1][1] == dns.rdatatype.SOA
    # Names are compressed: about as small as dnspython's own rendering.
    assert sum(map(len, wires)) <= 1.1 * by_dnspython(as_rrsets(sets), size)


def test_an_owner_outside_the_zone_is_written_in_full() -> None:
    outside = dns.rrset.from_text("other.test.", 60, "IN", "A", "192.0.2.9")
    inside = dns.rrset.from_text("a.example.com.", 60, "IN", "A", "192.0.2.8")
    similar = dns.rrset.from_text("notexample.com.", 60, "IN", "A", "192.0.2.7")
    sets = [wire_set(r) for r in (inside, outside, similar, inside)]
    assert read_back(list(pack(sets, 1, 0x8400, QUESTION))) == flat(sets)


def test_later_messages_point_at_their_own_copy_of_the_zone_name() -> None:
    sets = list(messages.axfr_sets(varied_zone(500)))
    wires = list(pack(sets, 1, 0x8400, QUESTION, 1400))
    assert len(wires) > 10
    # Each message stands alone: dnspython reads every one by itself.
    assert read_back(wires) == flat(sets)


def test_a_record_larger_than_a_message_is_refused() -> None:
    strings = " ".join(['"' + "y" * 250 + '"'] * 8)
    huge = dns.rrset.from_text("t.example.com.", 60, "IN", "TXT", strings)
    with pytest.raises(ValueError, match="does not fit"):
        list(pack([wire_set(huge)], 1, 0x8400, QUESTION, 1000))


def test_axfr_starts_and_ends_with_the_soa_and_carries_every_record() -> None:
    z = varied_zone(3)
    got = read_back(list(pack(messages.axfr_sets(z), 1, 0x8400, QUESTION)))
    assert got[0][1] == dns.rdatatype.SOA and got[-1][1] == dns.rdatatype.SOA
    assert len(got) == z.record_count + 1
