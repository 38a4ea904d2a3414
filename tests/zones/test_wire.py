"""Records in wire form, and what they are compared by."""

from __future__ import annotations

import dns.name
import dns.rdata

from dynzone.zones.names import name_wire
from dynzone.zones.wire import fresh_wire, rdata_key, rdata_wire


def rd(rdtype: str, text: str) -> dns.rdata.Rdata:
    return dns.rdata.from_text("IN", rdtype, text)


def test_rdata_key_is_equal_exactly_when_dnspython_says_equal() -> None:
    pairs = [
        (rd("A", "192.0.2.1"), rd("A", "192.0.2.1")),
        (rd("A", "192.0.2.1"), rd("A", "192.0.2.2")),
        (rd("CNAME", "Target.Example.COM."), rd("CNAME", "target.example.com.")),
        (rd("MX", "10 mail.example.com."), rd("MX", "20 mail.example.com.")),
        (rd("TXT", '"Hello"'), rd("TXT", '"hello"')),
    ]
    for a, b in pairs:
        assert (rdata_key(a) == rdata_key(b)) is (a == b)


def test_the_memos_never_answer_for_another_object() -> None:
    # Each record is dropped after use, so the next may get its id.
    for i in range(10_000):
        r = rd("A", f"10.0.{i >> 8 & 255}.{i & 255}")
        assert rdata_wire(r) == r.to_wire()
        assert rdata_key(r) == r.to_digestable()


def test_fresh_wire_is_dnspython_s_uncompressed_wire_form() -> None:
    records = [
        rd("A", "192.0.2.1"),
        rd("AAAA", "2001:db8::1"),
        rd("NS", "Ns1.Example.COM."),
        rd("CNAME", "target.example.com."),
        rd("PTR", "host.example.com."),
        rd("MX", "10 Mail.example.com."),
        rd("MX", "0 ."),
        rd("SRV", "10 60 5060 sip.example.com."),
        rd("TXT", '"v=spf1 -all" "x"'),
        rd("SOA", "ns1.example.com. hostmaster.example.com. 1 2 3 4 5"),
        rd("SOA", "NS1.Example.com. host\\.master.example.com. 4294967295 0 1 2 3"),
        rd("SOA", ". . 0 0 0 0 0"),
        rd("CAA", '0 issue "ca.example.net"'),
    ]
    for r in records:
        assert fresh_wire(r) == r.to_wire(), r


def test_a_name_s_wire_form_is_dnspython_s() -> None:
    for text in ["example.com.", "A.b.C.", ".", "*.wild.example.", "x\\.y.example."]:
        name = dns.name.from_text(text)
        assert name_wire(name) == name.to_wire()
