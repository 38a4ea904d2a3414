"""Response rate limiting: per source network, per kind of answer, with slips."""

from __future__ import annotations

import ipaddress

import dns.flags
import dns.message
import dns.rrset

from dynzone.dns.rrl import RateLimiter

V4 = ipaddress.ip_address("192.0.2.7").packed
NEIGHBOUR = ipaddress.ip_address("192.0.2.200").packed
ELSEWHERE = ipaddress.ip_address("198.51.100.1").packed


def _pair(name: str, rcode: int = 0, answers: bool = True) -> tuple[bytes, bytes]:
    q = dns.message.make_query(name, "TXT")
    r = dns.message.make_response(q)
    r.set_rcode(rcode)
    if answers:
        r.answer.append(dns.rrset.from_text(name, 60, "IN", "TXT", '"x"'))
    return q.to_wire(), r.to_wire()


def test_answers_beyond_the_limit_are_dropped_or_slipped_per_network() -> None:
    rrl = RateLimiter(limit=5, slip=2)
    query, reply = _pair("big.example.")
    got = [rrl.judge(V4 if i % 2 else NEIGHBOUR, query, reply, 100.5) for i in range(15)]
    assert got[:5] == [reply] * 5  # the /24 shares one bucket
    over = got[5:]
    assert over.count(None) == 5 and all(r != reply for r in over if r is not None)
    tc = dns.message.from_wire(next(r for r in over if r is not None))
    assert tc.flags & dns.flags.TC and not tc.answer
    assert rrl.judge(ELSEWHERE, query, reply, 100.5) == reply  # another network
    assert rrl.judge(V4, query, reply, 101.0) == reply  # a new second


def test_random_names_share_the_nxdomain_bucket() -> None:
    rrl = RateLimiter(limit=3, slip=0)
    results = []
    for i in range(6):
        query, reply = _pair(f"r{i}.example.", rcode=3, answers=False)
        results.append(rrl.judge(V4, query, reply, 7.0))
    assert results[3:] == [None, None, None]


def test_exempt_networks_are_never_limited() -> None:
    rrl = RateLimiter(limit=1, slip=0, exempt=[ipaddress.ip_network("192.0.2.0/24")])
    query, reply = _pair("a.example.")
    assert all(rrl.judge(V4, query, reply, 1.0) == reply for _ in range(10))
