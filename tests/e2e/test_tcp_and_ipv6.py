"""TCP framing, pipelining, idle timeout and connection cap; serving on ::1."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import dns.message
import dns.query
import pytest

from tests.e2e.conftest import run_dynzone
from tests.e2e.corpus import ZONES
from tests.peers import Server


def ipv6_loopback_works() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = run_dynzone(
        tmp_path_factory.mktemp("tcp"),
        ZONES,
        ipv6=ipv6_loopback_works(),
        tcp_idle_timeout=1,
        tcp_max_connections=3,
    )
    yield srv
    srv.stop()


def framed(msg: dns.message.Message) -> bytes:
    wire = msg.to_wire()
    return len(wire).to_bytes(2, "big") + wire


def read_reply(sock: socket.socket) -> dns.message.Message:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    size = int.from_bytes(exactly(2), "big")
    return dns.message.from_wire(exactly(size))


def test_pipelined_queries_are_all_answered_in_order(server: Server) -> None:
    queries = [
        dns.message.make_query(f"host{i}.example.com" if i % 2 else "www.example.com", "A")
        for i in range(20)
    ]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"".join(framed(q) for q in queries))
        replies = [read_reply(s) for _ in queries]
    assert [r.id for r in replies] == [q.id for q in queries]


def test_idle_connection_is_closed_after_the_timeout(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(framed(dns.message.make_query("www.example.com", "A")))
        assert read_reply(s).answer
        started = time.monotonic()
        assert s.recv(1) == b""  # the server closes the idle connection
        assert time.monotonic() - started < 4


def test_connections_over_the_cap_are_closed_and_the_others_keep_working(server: Server) -> None:
    query = framed(dns.message.make_query("www.example.com", "A"))
    held = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(3)]
    try:
        for s in held:
            s.sendall(query[:3])  # each is in the middle of a message: none is idle
        time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as extra:
            extra.sendall(query)
            with pytest.raises((ConnectionError, OSError)):
                read_reply(extra)
        for s in held:
            s.sendall(query[3:])
            assert read_reply(s).answer
    finally:
        for s in held:
            s.close()
    time.sleep(0.2)
    # Closed connections free their places.
    r = dns.query.tcp(
        dns.message.make_query("www.example.com", "A"), "127.0.0.1", port=server.port, timeout=5
    )
    assert r.answer


@pytest.mark.skipif(not ipv6_loopback_works(), reason="this machine has no IPv6 loopback")
@pytest.mark.parametrize("tcp", [False, True])
def test_answers_on_ipv6_loopback(server: Server, tcp: bool) -> None:
    q = dns.message.make_query("www.example.com", "AAAA")
    ask = dns.query.tcp if tcp else dns.query.udp
    r = ask(q, "::1", port=server.port, timeout=5)
    assert [rd.to_text() for rrset in r.answer for rd in rrset] == ["2001:db8::80"]
