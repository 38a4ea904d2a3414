"""Records in wire form, and what they are compared by."""

from __future__ import annotations

import dns.rdata

from dynzone.zones.wire import rdata_key, rdata_wire


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
