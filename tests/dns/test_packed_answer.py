"""Answers written straight from packed bytes equal the ones rendered the usual way."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.name
import dns.rdatatype
import dns.rrset
import pytest

from dynzone.dns.packed_answer import TAIL_MARK, answer_section
from dynzone.dns.render import EdnsReply, render
from dynzone.dns.responder import TCP_LIMIT, Responder, decide
from dynzone.engine.catalog import Catalog
from dynzone.zones.deps import Deps
from dynzone.zones.names import key_of
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.zonefile import read_zone_text

ORIGIN = dns.name.from_text("example.com")
ZONE = """
$ORIGIN example.com.
$TTL 300
@        SOA ns1 hostmaster 1 7200 900 1209600 60
         NS  ns1
         NS  ns.sub.deep
         NS  ns.other.test.
ns1      A   192.0.2.53
ns1      AAAA 2001:db8::53
ns.sub.deep A 192.0.2.54
www      A   192.0.2.80
www      A   192.0.2.81
www  60  AAAA 2001:db8::80
www      TXT "v=spf1 -all" "second string"
MiXeD    A   192.0.2.82
caa      CAA 0 issue "ca.example.net"
sshfp    SSHFP 1 1 123456789abcdef67890123456789abcdef67890
long-name-of-a-host-in-the-zone A 192.0.2.83
cut      NS  ns.cut
ns.cut   A   192.0.2.99
"""

# (name, type) pairs the direct path must take, and ones it must leave alone.
DIRECT = [
    ("www.example.com", "A"),
    ("WWW.Example.COM", "A"),
    ("www.example.com", "AAAA"),
    ("www.example.com", "TXT"),
    ("mixed.example.com", "A"),
    ("caa.example.com", "CAA"),
    ("sshfp.example.com", "SSHFP"),
    ("long-name-of-a-host-in-the-zone.example.com", "A"),
]
NOT_DIRECT = [
    ("ns1.example.com", "A"),  # a name server: its address is not repeated in additional
    ("sub.deep.example.com", "A"),  # above a name server (an empty non-terminal)
    ("deep.example.com", "A"),
    ("example.com", "A"),  # the apex
    ("www.example.com", "MX"),  # NODATA
    ("ns.cut.example.com", "A"),  # glue below a cut: a referral
    ("nowhere.example.com", "A"),
]


def catalog() -> Catalog:
    return Catalog([ZoneSnapshot(ORIGIN, read_zone_text(ZONE, ORIGIN))])


def reference(cat: Catalog, name: str, qtype: str, edns: int) -> dns.message.Message:
    """The reply as the general path renders it (dnspython objects, full compression)."""
    qname = dns.name.from_text(name)
    rdtype = dns.rdatatype.from_text(qtype)
    ans = decide(cat, qname, rdtype, 1)
    reply = EdnsReply(1232, do=edns == 2) if edns else None
    return dns.message.from_wire(render(qname, rdtype, 1, 7, 0, ans, reply, TCP_LIMIT))


def asked(responder: Responder, name: str, qtype: str, edns: int) -> dns.message.Message:
    q = dns.message.make_query(name, qtype, use_edns=0 if edns else False, want_dnssec=edns == 2)
    q.id, q.flags = 7, 0
    reply = responder.respond(q.to_wire(), False)
    assert isinstance(reply, bytes)
    return dns.message.from_wire(reply)


def sections(msg: dns.message.Message) -> tuple[object, ...]:
    return (msg.rcode(), msg.flags, msg.answer, msg.authority, msg.additional, msg.ednsflags)


@pytest.mark.parametrize(("name", "qtype"), DIRECT + NOT_DIRECT)
@pytest.mark.parametrize("edns", [0, 1, 2])
def test_a_reply_equals_the_usual_rendering(name: str, qtype: str, edns: int) -> None:
    cat = catalog()
    responder = Responder(cat)
    want = reference(cat, name, qtype, edns)
    # The first asks of each length render the shared tail; later ones reuse it.
    for _ in range(2):
        got = asked(responder, name, qtype, edns)
        assert sections(got) == sections(want)
        assert [r.ttl for r in got.answer] == [r.ttl for r in want.answer]
    # The direct path answered (it keeps a tail) exactly where it applies.
    tails = [k for k in cat.shapes if k[1] == TAIL_MARK]
    assert len(tails) == (1 if (name, qtype) in DIRECT else 0)


@pytest.mark.parametrize(("name", "qtype"), DIRECT)
def test_the_direct_path_takes_existing_names_of_nameless_types(name: str, qtype: str) -> None:
    key = key_of(dns.name.from_text(name))
    found = answer_section(catalog(), key, dns.rdatatype.from_text(qtype), 1, Deps())
    assert found is not None
    assert found[2] == len(reference(catalog(), name, qtype, 0).answer[0])


@pytest.mark.parametrize(("name", "qtype"), NOT_DIRECT)
def test_the_direct_path_leaves_everything_else_alone(name: str, qtype: str) -> None:
    key = key_of(dns.name.from_text(name))
    assert answer_section(catalog(), key, dns.rdatatype.from_text(qtype), 1, Deps()) is None


def test_names_of_one_length_share_the_tail_but_keep_their_own_records() -> None:
    cat = catalog()
    responder = Responder(cat)
    first = asked(responder, "www.example.com", "A", 1)
    other = asked(responder, "caa.example.com", "CAA", 1)  # same name length
    assert first.answer[0].name == dns.name.from_text("www.example.com")
    assert other.answer[0].rdtype == dns.rdatatype.CAA
    assert other.additional == first.additional and other.authority == first.authority


def test_an_rrset_a_commit_put_in_is_answered_the_same_way() -> None:
    snap = catalog().zones[key_of(ORIGIN)]
    new = dns.rrset.from_text("www.example.com.", 120, "IN", "A", "192.0.2.7", "192.0.2.8")
    evolved, _ = snap.evolve({(new.name, dns.rdatatype.A): new})
    cat = Catalog([evolved])
    got = asked(Responder(cat), "www.example.com", "A", 1)
    assert sections(got) == sections(reference(cat, "www.example.com", "A", 1))
    assert got.answer[0].ttl == 120 and len(got.answer[0]) == 2


def test_the_first_ask_keeps_the_clients_rd_and_cd_bits_and_id_as_later_ones_do() -> None:
    responder = Responder(catalog())
    q = dns.message.make_query("www.example.com", "A", use_edns=0)
    q.id = 4242
    q.flags = dns.flags.RD | dns.flags.CD
    replies = [responder.respond(q.to_wire(), False) for _ in range(3)]  # first, again, cached
    assert replies[0] == replies[1] == replies[2]
    got = dns.message.from_wire(replies[0])  # type: ignore[arg-type]
    assert got.id == 4242 and got.flags & dns.flags.RD and got.flags & dns.flags.CD


def test_a_first_answer_too_big_for_plain_udp_is_truncated_as_the_usual_path_does() -> None:
    strings = " ".join(f'"{"x" * 200}"' for _ in range(4))
    big = ZONE + f"big TXT {strings}\n"
    responder = Responder(Catalog([ZoneSnapshot(ORIGIN, read_zone_text(big, ORIGIN))]))
    q = dns.message.make_query("big.example.com", "TXT", use_edns=False)
    for _ in range(2):
        got = dns.message.from_wire(responder.respond(q.to_wire(), False))  # type: ignore[arg-type]
        assert got.flags & dns.flags.TC and not got.answer
