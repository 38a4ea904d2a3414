"""Rdata made without dnspython's checks are the same rdata as constructed ones."""

from __future__ import annotations

import socket

import dns.exception
import dns.name
import dns.rdata
import pytest

from dynzone.zones import trusted_rdata
from dynzone.zones.trusted_rdata import a_record, aaaa_record, name_from_text, with_serial
from dynzone.zones.wire import rdata_wire


def same(made: dns.rdata.Rdata, reference: dns.rdata.Rdata) -> None:
    assert made == reference and hash(made) == hash(reference)
    assert made.to_text() == reference.to_text()
    assert made.to_wire() == reference.to_wire()
    assert made.to_digestable(dns.name.root) == reference.to_digestable(dns.name.root)
    assert type(made) is type(reference) and made.rdtype == reference.rdtype


def test_the_installed_dnspython_is_laid_out_as_the_direct_path_expects() -> None:
    # Not a test that cannot fail: a dnspython release that moves its slots
    # turns the direct path off, and this says so before anything else does.
    assert trusted_rdata._DIRECT


@pytest.mark.parametrize("text", ["192.0.2.1", "0.0.0.0", "255.255.255.255", "10.1.2.3"])
def test_an_a_record_from_its_bytes_equals_the_constructed_one(text: str) -> None:
    wire = socket.inet_aton(text)
    made = a_record(wire)
    same(made, dns.rdata.from_text("IN", "A", text))
    assert rdata_wire(made) == wire


@pytest.mark.parametrize("text", ["2001:db8::1", "::", "::ffff:192.0.2.1", "fe80::1:2:3:4"])
def test_an_aaaa_record_from_its_bytes_equals_the_constructed_one(text: str) -> None:
    wire = socket.inet_pton(socket.AF_INET6, text)
    made = aaaa_record(wire)
    same(made, dns.rdata.from_text("IN", "AAAA", text))
    assert rdata_wire(made) == wire


@pytest.mark.parametrize("serial", [0, 1, 2026120201, 2**32 - 1])
def test_an_soa_with_another_serial_equals_the_constructed_one(serial: int) -> None:
    old = dns.rdata.from_text("IN", "SOA", "ns1.Example.test. h.example.test. 7 3600 600 86400 60")
    made = with_serial(old, serial)
    same(made, old.replace(serial=serial))
    assert made.serial == serial and old.serial == 7  # type: ignore[attr-defined]


def test_a_serial_out_of_range_is_refused_as_dnspython_refuses_it() -> None:
    old = dns.rdata.from_text("IN", "SOA", "ns1.example.test. h.example.test. 7 3600 600 86400 60")
    with pytest.raises(ValueError):
        with_serial(old, 2**32)


@pytest.mark.parametrize(
    "text",
    [
        "example.com.",
        "Www.Example.COM.",
        "*.wild.example.com.",
        "_sip._tcp.example.com.",
        "a\\.b.example.com.",  # an escaped dot: dnspython reads it
        "\\032space.example.com.",
        "x." + "a" * 63 + ".example.",
        ".",
    ],
)
def test_a_stored_name_equals_dnspython_reading_its_text(text: str) -> None:
    made, reference = trusted_rdata.stored_name(text), dns.name.from_text(text)
    assert made == reference and hash(made) == hash(reference)
    assert made.labels == reference.labels and made.to_text() == text


@pytest.mark.parametrize("text", ["x." + "a" * 64 + ".example.", "a..b.example."])
def test_a_stored_name_that_is_not_valid_is_refused_as_dnspython_refuses_it(text: str) -> None:
    with pytest.raises(dns.exception.DNSException):
        trusted_rdata.stored_name(text)


@pytest.mark.parametrize(
    ("rdtype", "text"),
    [("A", "192.0.2.1"), ("AAAA", "2001:db8::1"), ("MX", "10 mail.example."), ("TXT", '"t"')],
)
def test_rdata_from_wire_equals_dnspython_reading_the_same_bytes(rdtype: str, text: str) -> None:
    reference = dns.rdata.from_text("IN", rdtype, text)
    wire = b"\xff" + reference.to_wire() + b"\xff"  # read from inside a message
    made = trusted_rdata.rdata_from_wire(reference.rdtype, wire, 1, len(wire) - 2)
    same(made, reference)


@pytest.mark.parametrize(
    "text",
    ["example.com", "Example.COM.", "*.lab.example.com", "_acme-challenge.x.y", "a.b-c.d.",
     "bücher.example", "a\\.b.example", "x" * 64 + ".example", ".", "a..b"],
)  # fmt: skip
def test_name_from_text_equals_dnspython(text: str) -> None:
    try:
        want = dns.name.from_text(text)
    except dns.exception.DNSException:
        with pytest.raises(dns.exception.DNSException):
            name_from_text(text)
        return
    got = name_from_text(text)
    assert got == want and got.labels == want.labels and got.to_text() == want.to_text()


def test_a_known_name_hashes_and_compares_as_dnspythons_own_name() -> None:
    made = trusted_rdata.name_of_labels((b"Zone09", b"Example", b""))
    assert isinstance(made, trusted_rdata.KnownName)
    plain = dns.name.from_text("zone09.example.")
    assert hash(made) == hash(plain) and hash(made) == hash(plain)  # the second from its memory
    assert made == plain and plain == made
    assert (made != plain) is False
    assert {plain: 1}[made] == 1 and {made: 2}[plain] == 2


def test_known_names_that_share_dnspythons_hash_are_still_told_apart() -> None:
    # dnspython's hash is h = 9h + c over the characters: "09" and "10" collide.
    one = trusted_rdata.name_of_labels((b"z09", b"test", b""))
    other = trusted_rdata.name_of_labels((b"z10", b"test", b""))
    assert hash(one) == hash(other)
    assert one != other
    assert (one == other) is False
    assert len({one: 1, other: 2}) == 2
    relative = trusted_rdata.name_of_labels((b"z09", b"test"))
    assert one != relative and one != "z09.test."


@pytest.mark.parametrize("text", ["0.0.0.0", "192.0.2.1", "255.255.255.255", "10.20.30.40"])
def test_an_a_record_from_its_text_equals_the_constructed_one(text: str) -> None:
    made = trusted_rdata.a_record_from_text(text)
    want = dns.rdata.from_text("IN", "A", text)
    assert made == want and made.to_text() == want.to_text() and made.to_wire() == want.to_wire()
    assert hash(made) == hash(want)
