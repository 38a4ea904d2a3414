"""Packing a transfer into messages: order, limits, splitting, the question once."""

from __future__ import annotations

import dns.message
import dns.name
import dns.rdata
import dns.rdatatype

from dynzone.xfr import messages
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.zonefile import Record

ORIGIN = dns.name.from_text("example.com")
QUESTION = (ORIGIN, dns.rdatatype.AXFR, 1)


def zone(extra: int) -> ZoneSnapshot:
    def rec(name: str, rdtype: str, text: str) -> Record:
        return Record(
            dns.name.from_text(name, ORIGIN),
            300,
            dns.rdata.from_text("IN", rdtype, text, origin=ORIGIN, relativize=False),
        )

    records = [rec("@", "SOA", "ns1 hostmaster 5 3600 600 86400 60"), rec("@", "NS", "ns1")]
    records += [rec("big", "TXT", f'"{i:04d} {"x" * 200}"') for i in range(extra)]
    records += [rec(f"h{i}", "A", f"10.0.{i >> 8}.{i & 255}") for i in range(extra)]
    return ZoneSnapshot(ORIGIN, records)


def unpack(wires: list[bytes]) -> list[tuple[str, int, str]]:
    out = []
    for i, wire in enumerate(wires):
        msg = dns.message.from_wire(wire, one_rr_per_rrset=True)  # keep both SOAs
        assert len(msg.question) == (1 if i == 0 else 0)
        out += [
            (rrset.name.to_text(), rrset.rdtype, rd.to_text())
            for rrset in msg.answer
            for rd in rrset
        ]
    return out


def test_axfr_starts_and_ends_with_the_soa_and_carries_every_record() -> None:
    z = zone(3)
    wires = list(messages.pack(messages.axfr_rrsets(z), 1, 0x8400, QUESTION))
    got = unpack(wires)
    assert got[0][1] == dns.rdatatype.SOA and got[-1][1] == dns.rdatatype.SOA
    assert len(got) == z.record_count + 1


def test_a_large_zone_is_split_into_messages_under_the_limit_and_an_rrset_too() -> None:
    z = zone(2000)  # one TXT RRset of 2000 x ~210 bytes: far over 64 KiB by itself
    wires = list(messages.pack(messages.axfr_rrsets(z), 1, 0x8400, QUESTION, 16000))
    assert len(wires) > 20 and all(len(w) <= 16000 for w in wires)
    got = unpack(wires)
    assert len(got) == z.record_count + 1
    assert len({r for r in got if r[1] == dns.rdatatype.TXT}) == 2000


def test_only_message_says_none_when_the_records_do_not_fit() -> None:
    z = zone(50)
    assert messages.only_message(messages.axfr_rrsets(z), 1, 0x8400, QUESTION, 512) is None
    soa = messages.only_message(iter([z.soa]), 1, 0x8400, QUESTION, 512)
    assert soa is not None and dns.message.from_wire(soa).answer[0].rdtype == dns.rdatatype.SOA
