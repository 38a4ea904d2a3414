"""The HTTP listener under abuse: caps, deadlines, short errors, no tracebacks."""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.dyndns_server import OTHER_ZONE, ZONE, Dynzone, start
from tests.peers import connect_from

HTTP = """\
header_timeout = 1.5
max_connections_per_address = 8
trusted_proxies = ["127.0.0.9/32"]
"""


@pytest.fixture(scope="module")
def dz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dynzone]:
    server = start(tmp_path_factory.mktemp("http-abuse"), http=HTTP)
    try:
        server.add_user("eve", "eve-secret-1", f"eve.{ZONE}")
        yield server
    finally:
        server.stop()


def _connect(dz: Dynzone, source: str) -> socket.socket:
    return connect_from(source, dz.http_port)


def _closed(s: socket.socket) -> bool:
    try:
        s.send(b"X")
        return s.recv(1024) == b""
    except OSError:
        return True


def _open(s: socket.socket) -> bool:
    """Whether the server still holds ``s`` open (nothing sent, nothing waited for)."""
    s.setblocking(False)
    try:
        return s.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def test_a_scoped_myip_gets_400_not_500(dz: Dynzone) -> None:
    got = dz.curl(f"hostname=eve.{ZONE}&myip=fe80::1%25eth0", "eve", "eve-secret-1")
    assert got == (400, "badip")
    assert "Traceback" not in dz.server.log_text()


def test_a_malformed_request_gets_400_and_one_short_log_line(dz: Dynzone) -> None:
    before = len(dz.server.log_text())
    with _connect(dz, "127.0.0.3") as s:
        s.sendall(b"GARBAGE\x00\x01 / HTTP/9.9\r\n" + b"X" * 3000 + b"\r\n\r\n")
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.") and b" 400 " in reply.split(b"\r\n")[0]
    time.sleep(0.3)
    added = dz.server.log_text()[before:]
    assert "Traceback" not in added
    assert all(len(line) < 400 for line in added.splitlines())


def test_slow_drip_connections_are_capped_and_cut_and_others_are_served(dz: Dynzone) -> None:
    slow = [_connect(dz, "127.0.0.2") for _ in range(20)]
    try:
        started = time.monotonic()
        for s in slow:
            with contextlib.suppress(OSError):
                s.send(b"G")
        time.sleep(0.3)
        # Over the per-address cap of 8: closed at once.
        assert sum(_closed(s) for s in slow[8:]) == 12
        # A client from elsewhere is served while the drip goes on.
        assert dz.curl("", path="/nic/checkip")[0] == 200
        # The drip continues a byte at a time; the header deadline still cuts it.
        open_ones = slow[:8]
        while time.monotonic() - started < 4:
            for s in open_ones:
                with contextlib.suppress(OSError):
                    s.send(b"E")
            time.sleep(0.25)
        assert all(_closed(s) for s in open_ones)
    finally:
        for s in slow:
            s.close()
    assert dz.curl("", path="/nic/checkip")[0] == 200


def test_zone_status_only_for_zones_the_user_holds_a_grant_in(dz: Dynzone) -> None:
    mine = dz.curl("", "eve", "eve-secret-1", path=f"/api/zones/{ZONE}/status")
    assert mine[0] == 200 and '"serial"' in mine[1]
    other = dz.curl("", "eve", "eve-secret-1", path=f"/api/zones/{OTHER_ZONE}/status")
    assert other[0] == 404


def _raw(dz: Dynzone, request: bytes) -> int:
    """Send ``request`` as it is; the reply's HTTP status."""
    with _connect(dz, "127.0.0.1") as s:
        s.sendall(request)
        head = s.recv(4096)
    return int(head.split(b" ", 2)[1])


def test_a_form_that_is_not_utf8_gets_400(dz: Dynzone) -> None:
    request = (
        b"POST /nic/update HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: Basic ZXZlOmV2ZS1zZWNyZXQtMQ==\r\n"  # eve:eve-secret-1
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4\r\n"
        b"Connection: close\r\n\r\n\xff\xfe=x"
    )
    assert _raw(dz, request) == 400
    assert "Traceback" not in dz.server.log_text()


def test_a_host_name_that_is_not_utf8_is_notfqdn(dz: Dynzone) -> None:
    assert dz.curl("hostname=%ff%fe", "eve", "eve-secret-1") == (200, "notfqdn")


def test_a_scoped_v4_mapped_address_gets_400(dz: Dynzone) -> None:
    got = dz.curl(f"hostname=eve.{ZONE}&myip=::ffff:192.0.2.1%25eth0", "eve", "eve-secret-1")
    assert got == (400, "badip")


def test_a_trusted_proxy_is_not_held_to_the_per_address_cap(dz: Dynzone) -> None:
    conns = [_connect(dz, "127.0.0.9") for _ in range(12)]
    try:
        time.sleep(0.3)
        assert all(_open(s) for s in conns)
    finally:
        for s in conns:
            s.close()


def _failed_logins(dz: Dynzone) -> float:
    status, text = dz.curl("", path="/metrics")
    assert status == 200, text
    found = re.search(r'^dynzone_security_events_total\{event="failed-login"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def test_fifty_simultaneous_wrong_passwords_from_one_address_get_exactly_the_limit_checked(
    tmp_path: Path,
) -> None:
    # A server of its own whose connection cap lets all fifty in at once, so
    # that only the failed-login limit (the default, 5 a minute) decides.
    dz = start(tmp_path, http="max_connections_per_address = 64\n")
    try:
        # Her password is one a person chose: each check is argon2, and each
        # wrong one is a failed-login event.
        dz.add_user("mallory", "mallory-secret-1", f"mallory.{ZONE}")
        before = _failed_logins(dz)
        host = f"hostname=mallory.{ZONE}"
        with ThreadPoolExecutor(50) as pool:
            replies = list(
                pool.map(
                    lambda _: dz.curl(host, "mallory", "wrong", "--interface", "127.0.0.77"),
                    range(50),
                )
            )
        assert replies.count((401, "badauth")) == 5
        assert replies.count((200, "abuse")) == 45
        assert _failed_logins(dz) - before == 5
        # The limit is per address, whoever is behind it: the right password
        # from there gets abuse (no check) until the bucket refills. From
        # another address it works once the budget for all addresses has a
        # check again (12 wrong ones a minute: one every 5 s).
        right = ("mallory", "mallory-secret-1")
        assert dz.curl(host, *right, "--interface", "127.0.0.77") == (200, "abuse")
        deadline = time.monotonic() + 20
        while (got := dz.curl(host + "&myip=192.0.2.5", *right)[1]) == "abuse":
            assert time.monotonic() < deadline, "the budget never gave a check back"
        assert got == "good 192.0.2.5"
    finally:
        dz.stop()
