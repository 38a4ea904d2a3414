"""Response rate limiting against reflection, and DNS COOKIEs checked with dig.

The flood comes from 127.0.0.2, as a spoofed source would; ``rrl_exempt`` is
emptied so that loopback is limited like any other network. The real
clients ask from another /24 (127.0.1.1), or from the flood's own /24 with a
valid cookie, and must not notice.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from tests.conftest import need_peer
from tests.e2e.dyndns_server import ZONE, ZONE_TEXT, Dynzone, start

LIMIT = 50
BIG = " ".join(f'"{"x" * 60}-{i}"' for i in range(10))  # a TXT RRset of about 650 bytes
DNS = f"""\
[dns]
rrl_limit = {LIMIT}
rrl_slip = 2
rrl_exempt = []
"""


@pytest.fixture(scope="module")
def dz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dynzone]:
    workdir: Path = tmp_path_factory.mktemp("rrl")
    (workdir / f"{ZONE}.zone").write_text(ZONE_TEXT + f"big IN TXT {BIG}\n")
    first = start(workdir)
    first.stop()
    first.config.write_text(first.config.read_text().replace("[dns]\n", DNS, 1))
    server = start(workdir, ports=(first.dns_port, first.http_port))
    try:
        yield server
    finally:
        server.stop()


def _ask(dz: Dynzone, source: str, cookie: bytes | None = None) -> dns.message.Message | None:
    q = dns.message.make_query(f"big.{ZONE}", "TXT", use_edns=0, payload=1232)
    if cookie is not None:
        q.use_edns(0, payload=1232, options=[dns.edns.GenericOption(10, cookie)])
    try:
        return dns.query.udp(q, "127.0.0.1", port=dz.dns_port, timeout=0.5, source=source)
    except dns.exception.Timeout:
        return None


def _cookie_of(reply: dns.message.Message) -> bytes:
    return next(o for o in reply.options if o.otype == 10).to_wire()


def test_a_reflection_flood_gets_at_most_the_limit_and_real_clients_are_unaffected(
    dz: Dynzone,
) -> None:
    # A real client in the flood's own /24 learns its cookie over TCP first.
    q = dns.message.make_query(f"big.{ZONE}", "TXT", use_edns=0)
    q.use_edns(0, options=[dns.edns.GenericOption(10, b"realcli1")])
    learnt = dns.query.tcp(q, "127.0.0.1", port=dz.dns_port, timeout=3, source="127.0.0.5")
    cookie = _cookie_of(learnt)
    assert len(cookie) == 24

    query = dns.message.make_query(f"big.{ZONE}", "TXT", use_edns=0, payload=1232).to_wire()
    flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    flood.bind(("127.0.0.2", 0))
    flood.setblocking(False)
    full = slipped = sent = 0
    tc_sizes: set[int] = set()
    real: list[dns.message.Message | None] = []
    with_cookie: list[dns.message.Message | None] = []

    def drain() -> None:
        nonlocal full, slipped
        while True:
            try:
                data = flood.recv(4096)
            except BlockingIOError:
                return
            reply = dns.message.from_wire(data)
            if reply.flags & dns.flags.TC:
                slipped += 1
                tc_sizes.add(len(data))
            else:
                full += 1

    started = time.monotonic()
    while sent < 10_000:  # 10,000 queries within about a second
        for _ in range(500):
            try:
                flood.sendto(query, ("127.0.0.1", dz.dns_port))
                sent += 1
            except BlockingIOError:
                break
        drain()
        if sent % 2000 == 0:
            real.append(_ask(dz, "127.0.1.1"))
            with_cookie.append(_ask(dz, "127.0.0.5", cookie))
        time.sleep(max(0.0, started + sent / 10_000 - time.monotonic()))
    elapsed = time.monotonic() - started
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        drain()
        time.sleep(0.05)
    flood.close()

    windows = int(elapsed) + 2  # the seconds the flood touched
    print(f"flood: {sent} sent in {elapsed:.2f} s; {full} full answers, {slipped} TC")
    assert 0 < full <= LIMIT * windows
    assert slipped > 1000, "every second dropped answer goes out as TC"
    assert max(tc_sizes) <= len(query), "a slipped answer is no bigger than the query"
    assert all(r is not None and r.answer and not r.flags & dns.flags.TC for r in real)
    assert all(r is not None and r.answer for r in with_cookie)
    assert "rrl-start:" in dz.server.log_text()


def _dig(dz: Dynzone, *args: str) -> str:
    done = subprocess.run(
        ["dig", "@127.0.0.1", "-p", str(dz.dns_port), *args, "SOA", ZONE],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _status(out: str) -> str:
    found = re.search(r"status: (\w+)", out)
    assert found, out
    return found.group(1)


def _cookie(out: str) -> str:
    found = re.search(r"; COOKIE: ([0-9a-f]+)", out)
    assert found, out
    return found.group(1)


def test_dig_cookie_learns_a_server_cookie_made_as_rfc_9018_says(dz: Dynzone) -> None:
    need_peer("dig")
    out = _dig(dz, "+cookie")
    assert _status(out) == "NOERROR"
    cookie = _cookie(out)
    assert len(cookie) == 48 and cookie[16:24] == "01000000"  # 8 + 16 bytes, version 1
    again = _dig(dz, f"+cookie={cookie}")
    assert _status(again) == "NOERROR" and "(good)" in again
    assert _cookie(again) == cookie, "a fresh server cookie is echoed unchanged"


# ISC's DNS compliance tests (genreport): "cookie" sends a client cookie and
# expects a server cookie back; "badcookie" sends a server cookie we did not
# make and expects a normal answer with a fresh one (RFC 7873 §5.2.3).
def test_isc_compliance_cookie(dz: Dynzone) -> None:
    need_peer("dig")
    out = _dig(dz, "+edns=0", "+noad", "+norec", "+cookie=0102030405060708")
    assert _status(out) == "NOERROR"
    assert _cookie(out).startswith("0102030405060708") and len(_cookie(out)) == 48


def test_isc_compliance_badcookie(dz: Dynzone) -> None:
    need_peer("dig")
    bad = "0102030405060708" + "01000000" + "00" * 12
    out = _dig(dz, "+edns=0", "+noad", "+norec", f"+cookie={bad}")
    assert _status(out) == "NOERROR"
    fresh = _cookie(out)
    assert fresh.startswith("0102030405060708") and fresh != bad and len(fresh) == 48


def test_a_malformed_cookie_option_is_formerr(dz: Dynzone) -> None:
    need_peer("dig")
    assert _status(_dig(dz, "+nocookie", "+ednsopt=10:01020304")) == "FORMERR"
