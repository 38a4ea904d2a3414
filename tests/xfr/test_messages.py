"""The single message of a UDP transfer reply (packer.py packs TCP streams)."""

from __future__ import annotations

import dns.message
import dns.name
import dns.rdata
import dns.rdatatype

from dynzone.xfr import messages
from dynzone.xfr.packer import wire_set
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


def test_only_message_says_none_when_the_records_do_not_fit() -> None:
    z = zone(50)
    assert messages.only_message(messages.axfr_sets(z), 1, 0x8400, QUESTION, 512) is None
    soa = messages.only_message([wire_set(z.soa)], 1, 0x8400, QUESTION, 512)
    assert soa is not None and dns.message.from_wire(soa).answer[0].rdtype == dns.rdatatype.SOA
