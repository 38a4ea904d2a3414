"""The UPDATE reader gives what dnspython's parse gives, and leaves it what it does not know."""

from __future__ import annotations

import base64
import struct

import dns.edns
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.tsigkeyring
import dns.update
import pytest

from dynzone.dns import signed
from dynzone.dns.tsig import TsigFields
from dynzone.update import message

ZONE = "Example.COM"
RING = dns.tsigkeyring.from_text({"k": ("hmac-sha256", base64.b64encode(b"s" * 32).decode())})


def corpus() -> list[dns.update.UpdateMessage]:
    """Every prerequisite and update form, several rdata types, EDNS and TSIG."""
    out = []
    for edns in (-1, 0):
        for keyring in (None, RING):
            u = dns.update.UpdateMessage(ZONE, keyring=keyring, keyalgorithm="hmac-sha256")
            u.use_edns(edns)
            u.present("a")
            u.present("b", "A")
            u.absent("c")
            u.absent("d", "TXT")
            u.present("e", "A", "192.0.2.1", "192.0.2.2")
            u.add("Host", 60, "A", "192.0.2.10")
            u.add("host", 3600, "AAAA", "2001:db8::1")
            u.add("_acme-challenge", 60, "TXT", '"token one"', '"token two"')
            u.add("@", 300, "MX", "10 mail.example.com.")
            u.add("_sip._tcp", 60, "SRV", "0 5 5060 sip.example.com.")
            u.add("ca", 60, "CAA", '0 issue "letsencrypt.org"')
            u.add("alias", 60, "CNAME", "host.example.com.")
            u.add("big", 0xFFFFFFFF, "A", "192.0.2.99")
            u.delete("host", "A", "192.0.2.10")
            u.delete("host", "A")
            u.delete("old")
            out.append(u)
            short = dns.update.UpdateMessage(ZONE, keyring=keyring, keyalgorithm="hmac-sha256")
            short.use_edns(edns)
            short.replace("h1", 60, "A", "10.0.0.1")
            out.append(short)
    return out


def by_dnspython(wire: bytes) -> message.UpdateMessage:
    msg = dns.message.from_wire(wire, keyring=False, one_rr_per_rrset=True)
    return message.from_message(wire, msg)


def rows(records: list[message.UpdateRR], exact: bool) -> list[tuple[object, ...]]:
    # dnspython drops the TTL of a record without rdata; the reader keeps the sent one.
    return [
        (
            r.name,
            r.name.to_text(),  # letter case too
            r.rdclass,
            r.rdtype,
            r.deleting,
            r.ttl if (exact or r.rdata is not None) and r.deleting is None else None,
            r.rdata,
        )
        for r in records
    ]


@pytest.mark.parametrize("index", range(len(corpus())))
def test_the_reader_gives_what_dnspython_gives(index: int) -> None:
    wire = corpus()[index].to_wire()
    ours = message.read(wire)
    theirs = by_dnspython(wire)
    assert ours is not None, "a message of the known forms must not fall back"
    assert ours.zone == theirs.zone
    assert rows(ours.prerequisites, True) == rows(theirs.prerequisites, False)
    assert rows(ours.updates, True) == rows(theirs.updates, False)
    assert ours.tsig_owner == theirs.tsig_owner
    ours_tsig = ours.tsig.to_rdata() if isinstance(ours.tsig, TsigFields) else ours.tsig
    assert ours_tsig == theirs.tsig
    for rcode in (dns.rcode.NOERROR, dns.rcode.REFUSED, dns.rcode.NOTAUTH):
        assert ours.reply(rcode, 1232) == theirs.reply(rcode, 1232)


def test_records_without_rdata_keep_the_ttl_they_were_sent_with() -> None:
    header = struct.pack("!HHHHHH", 1, 5 << 11, 1, 1, 1, 0)
    zone = dns.name.from_text("example.com").to_wire() + struct.pack("!HH", 6, 1)
    owner = dns.name.from_text("a.example.com").to_wire()
    prereq = owner + struct.pack("!HHIH", 1, dns.rdataclass.ANY, 60, 0)
    delete = owner + struct.pack("!HHIH", 1, dns.rdataclass.NONE, 7, 4) + bytes(4)
    got = message.read(header + zone + prereq + delete)
    assert got is not None and got.exact_ttls
    assert [r.ttl for r in (*got.prerequisites, *got.updates)] == [60, 7]


def _raw(zone_type: int = 6, zone_class: int = 1, extra: bytes = b"", arcount: int = 0) -> bytes:
    header = struct.pack("!HHHHHH", 1, 5 << 11, 1, 0, 1, arcount)
    zone = dns.name.from_text("example.com").to_wire() + struct.pack("!HH", zone_type, zone_class)
    add = dns.name.from_text("a.example.com").to_wire() + struct.pack("!HHIH", 1, 1, 60, 4)
    return header + zone + add + bytes(4) + extra


def test_forms_it_does_not_know_are_left_to_dnspython() -> None:
    padded = dns.update.UpdateMessage(ZONE)
    padded.use_edns(0, options=[dns.edns.GenericOption(dns.edns.OptionType.PADDING, b"")])
    padded.add("a", 60, "A", "192.0.2.1")
    chaos = dns.update.UpdateMessage(ZONE, rdclass=dns.rdataclass.CH)
    chaos.add("a", 60, "TXT", "x")
    assert message.read(_raw()) is not None  # the control
    for wire in (
        padded.to_wire(),
        chaos.to_wire(),
        _raw(zone_type=1),  # a zone section that is not an SOA question
        _raw(extra=b"junk"),  # trailing bytes
        _raw(extra=b"\x00" + struct.pack("!HHIH", 1, 1, 0, 0), arcount=1),  # odd additional
        _raw()[:-2],  # truncated
    ):
        assert message.read(wire) is None


def test_reply_keeps_the_id_rd_and_opcode() -> None:
    u = dns.update.UpdateMessage(ZONE)
    u.id = 0xBEEF
    u.flags |= dns.flags.RD
    u.add("a", 60, "A", "192.0.2.1")
    wire = u.to_wire()
    got = message.read(wire)
    assert got is not None
    msg = dns.message.from_wire(wire)
    assert got.reply(dns.rcode.YXRRSET, 4096) == signed.reply(wire, msg, dns.rcode.YXRRSET, 4096)


def test_addresses_made_from_their_bytes_equal_dnspython_reading_them() -> None:
    for text in ("192.0.2.7", "0.0.0.0", "2001:db8::1", "::ffff:192.0.2.1", "::", "fe80::1:2"):
        u = dns.update.UpdateMessage("example.com")
        u.add("host.example.com.", 60, "AAAA" if ":" in text else "A", text)
        wire = u.to_wire()
        ours = message.read(wire)
        assert ours is not None
        theirs = by_dnspython(wire)
        [mine], [ref] = ours.updates, theirs.updates
        assert mine.rdata == ref.rdata
        assert mine.rdata is not None and ref.rdata is not None
        assert mine.rdata.to_text() == ref.rdata.to_text() == text
