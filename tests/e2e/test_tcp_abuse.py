"""DNS over TCP under abuse: a slow drip cannot hold connections, a full server makes room."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import dns.message
import dns.query
import dns.rcode
import pytest

from tests.e2e.dyndns_server import ZONE, Dynzone, start
from tests.peers import connect_from

DNS = """\
[dns]
tcp_idle_timeout = 1.0
tcp_max_connections = 50
tcp_max_connections_per_address = 40
"""


@pytest.fixture(scope="module")
def dz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dynzone]:
    workdir = tmp_path_factory.mktemp("tcp-abuse")
    server = start(workdir)
    server.stop()
    text = server.config.read_text().replace("[dns]\n", DNS, 1)
    server.config.write_text(text)
    server = start(workdir, ports=(server.dns_port, server.http_port))
    try:
        yield server
    finally:
        server.stop()


def _tcp_query(dz: Dynzone) -> int:
    q = dns.message.make_query(ZONE, "SOA")
    return dns.query.tcp(q, "127.0.0.1", port=dz.dns_port, timeout=3, source="127.0.0.1").rcode()


def _connect(dz: Dynzone, source: str) -> socket.socket:
    return connect_from(source, dz.dns_port)


def _closed(s: socket.socket) -> bool:
    try:
        s.setblocking(False)
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_a_slow_drip_is_cut_off_and_tcp_queries_are_answered_throughout(dz: Dynzone) -> None:
    assert "tcp_idle_timeout = 1.0" in dz.config.read_text()
    drips = [_connect(dz, "127.0.0.2") for _ in range(60)]
    try:
        started = time.monotonic()
        answered = 0
        while time.monotonic() - started < 3:
            for s in drips:
                # A 32,639-byte message, one byte at a time.
                with contextlib.suppress(OSError):
                    s.send(b"\x7f")
            assert _tcp_query(dz) == dns.rcode.NOERROR
            answered += 1
            time.sleep(0.2)
        assert answered >= 5
        assert all(_closed(s) for s in drips), "every dripping connection is cut off"
    finally:
        for s in drips:
            s.close()


def test_when_full_the_longest_idle_connection_makes_room(dz: Dynzone) -> None:
    idle = [_connect(dz, "127.0.0.3") for _ in range(25)]
    idle += [_connect(dz, "127.0.0.4") for _ in range(25)]
    try:
        time.sleep(0.1)
        assert _tcp_query(dz) == dns.rcode.NOERROR  # the 51st connection
        time.sleep(0.1)
        assert _closed(idle[0]), "the oldest idle connection was closed to make room"
        assert not _closed(idle[-1])
    finally:
        for s in idle:
            s.close()
