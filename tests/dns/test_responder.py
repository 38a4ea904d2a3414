"""The responder's caches must never change an answer, only its cost."""

from __future__ import annotations

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import pytest

from dynzone.dns.cookies import Cookies
from dynzone.dns.responder import Responder
from dynzone.engine.catalog import Catalog
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.zonefile import read_zone_text

ZONE = """
$ORIGIN example.com.
$TTL 300
@        SOA ns1 hostmaster 1 7200 900 1209600 60
         NS  ns1
ns1      A   192.0.2.53
*.w      CNAME aa.w.example.com.
*.m      MX  10 mail.xx.m.example.com.
www      A   192.0.2.80
"""


def fresh() -> Responder:
    origin = dns.name.from_text("example.com")
    return Responder(Catalog([ZoneSnapshot(origin, read_zone_text(ZONE, origin))]))


def ask(
    responder: Responder, name: str, qtype: str = "A", tcp: bool = False
) -> dns.message.Message:
    q = dns.message.make_query(name, qtype)
    q.flags = 0
    reply = responder.respond(q.to_wire(), tcp)
    assert reply is not None
    return dns.message.from_wire(reply)


def same(a: dns.message.Message, b: dns.message.Message) -> bool:
    return (a.rcode(), a.flags, a.answer, a.authority, a.additional) == (
        b.rcode(),
        b.flags,
        b.answer,
        b.authority,
        b.additional,
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # The SOA names hostmaster.example.com, which does not exist: its
        # NXDOMAIN mentions the query name inside the SOA.
        ("hostmaster.example.com", "abcdefghij.example.com"),
        ("abcdefghij.example.com", "hostmaster.example.com"),
        # A wildcard CNAME pointing at a name the wildcard itself covers.
        ("aa.w.example.com", "bb.w.example.com"),
        ("bb.w.example.com", "aa.w.example.com"),
        # Additional data for a target below the query name.
        ("xx.m.example.com", "yy.m.example.com"),
        ("yy.m.example.com", "xx.m.example.com"),
    ],
)
def test_answers_shared_between_names_of_one_length_stay_right(first: str, second: str) -> None:
    for qtype in ("A", "MX"):
        warmed = fresh()
        ask(warmed, first, qtype)
        cold = fresh()
        assert same(ask(warmed, second, qtype), ask(cold, second, qtype)), (first, second, qtype)


def test_cached_answer_keeps_each_client_s_id_case_and_rd_bit() -> None:
    r = fresh()
    ask(r, "www.example.com")
    q = dns.message.make_query("WWW.Example.COM", "A")
    q.flags = dns.flags.RD | dns.flags.CD
    reply = dns.message.from_wire(r.respond(q.to_wire()) or b"")
    assert reply.id == q.id
    assert reply.question[0].name.to_text() == "WWW.Example.COM."
    assert reply.flags & dns.flags.RD and reply.flags & dns.flags.CD
    assert reply.flags & dns.flags.AA and not reply.flags & dns.flags.RA


def test_udp_and_tcp_share_the_cache_but_only_udp_truncates() -> None:
    zone = ZONE + "".join(f'big TXT "{i:02d}{"x" * 90}"\n' for i in range(8))
    origin = dns.name.from_text("example.com")
    r = Responder(Catalog([ZoneSnapshot(origin, read_zone_text(zone, origin))]))
    udp = ask(r, "big.example.com", "TXT")
    assert udp.flags & dns.flags.TC and not udp.answer
    tcp = ask(r, "big.example.com", "TXT", tcp=True)
    assert not tcp.flags & dns.flags.TC and len(tcp.answer[0]) == 8
    assert ask(r, "big.example.com", "TXT").flags & dns.flags.TC  # still truncated on UDP


def test_edns_options_are_ignored_alike_on_the_fast_and_the_slow_path() -> None:
    r = fresh()
    cookie = dns.edns.GenericOption(dns.edns.OptionType.COOKIE, b"\x01" * 8)
    nsid = dns.edns.GenericOption(dns.edns.OptionType.NSID, b"")
    for options in ([cookie], [nsid], [cookie, nsid]):
        q = dns.message.make_query("www.example.com", "A", use_edns=0, options=options)
        q.flags = 0
        fast = dns.message.from_wire(r.respond(q.to_wire()) or b"")
        slow = dns.message.from_wire(r._slow(q.to_wire(), False)[0] or b"")  # type: ignore[arg-type]
        assert same(fast, slow) and fast.answer
        assert fast.edns == 0 and not fast.options  # nothing echoed: cookies are off here


def test_an_option_overrunning_the_opt_record_is_formerr_on_both_paths() -> None:
    q = dns.message.make_query("www.example.com", "A", use_edns=0)
    wire = bytearray(q.to_wire())
    # rdlength 5: option code 10, option length 9, one byte of data.
    wire[-2:] = b"\x00\x05"
    wire += b"\x00\x0a\x00\x09\x01"
    reply = dns.message.from_wire(fresh().respond(bytes(wire)) or b"")
    assert reply.rcode() == dns.rcode.FORMERR


def test_a_cookie_is_answered_alike_on_the_fast_and_the_slow_path() -> None:
    origin = dns.name.from_text("example.com")
    cookies = Cookies(b"k" * 16)
    r = Responder(Catalog([ZoneSnapshot(origin, read_zone_text(ZONE, origin))]), cookies=cookies)
    client = bytes([192, 0, 2, 7])
    cookie = dns.edns.GenericOption(dns.edns.OptionType.COOKIE, b"\x01" * 8)
    q = dns.message.make_query("www.example.com", "A", use_edns=0, options=[cookie])
    q.flags = 0
    wire = q.to_wire()
    fast = dns.message.from_wire(r.respond(wire, False, client) or b"")  # type: ignore[arg-type]
    slow_wire, proven = r._slow(wire, False, client)
    slow = dns.message.from_wire(slow_wire or b"")  # type: ignore[arg-type]
    assert same(fast, slow) and fast.answer and not proven
    (sent,) = fast.options
    assert sent.to_wire()[:8] == b"\x01" * 8 and len(sent.to_wire()) == 24
    # Sent back, the cookie proves the address: valid, and not cached for anyone else.
    back = dns.message.make_query("www.example.com", "A", use_edns=0, options=[sent])
    again = dns.message.from_wire(r.respond(back.to_wire(), False, client) or b"")  # type: ignore[arg-type]
    assert again.options[0].to_wire() == sent.to_wire()
    assert r.catalog.exact.get(back.to_wire()[2:]) is None
