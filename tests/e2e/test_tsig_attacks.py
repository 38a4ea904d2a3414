"""TSIG (RFC 8945) errors and attacks, sent over the wire to a running dynzone.

Each attack must get the RFC's answer and change nothing: the serial stays
and the record the message tried to write is not there.
"""

from __future__ import annotations

import base64
import socket
import struct
import time
from collections.abc import Iterator
from unittest import mock

import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rdtypes.ANY.TSIG
import dns.tsig
import dns.tsigkeyring
import dns.update
import pytest

from tests.e2e.update_server import EXAMPLE, Key, UpdateServer, start_update_server

TARGET = "attack.example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpdateServer]:
    dz = start_update_server(tmp_path_factory.mktemp("tsig"))
    try:
        yield dz
    finally:
        dz.stop()


@pytest.fixture(scope="module")
def key(server: UpdateServer) -> Key:
    return server.add_key("attack-key", "*.example.com TXT A")


def keyring(key: Key, name: str | None = None, secret: str | None = None) -> dict:
    return dns.tsigkeyring.from_text({name or key.name: (key.algorithm, secret or key.secret)})


def update(
    key: Key,
    *,
    name: str | None = None,
    secret: str | None = None,
    fudge: int = 300,
    zone: str = EXAMPLE,
    owner: str = TARGET,
    text: str = "attack",
) -> dns.update.UpdateMessage:
    msg = dns.update.UpdateMessage(zone)
    msg.add(dns.name.from_text(owner), 60, "TXT", f'"{text}"')
    ring = keyring(key, name, secret)
    msg.use_tsig(
        ring, keyname=next(iter(ring)), fudge=fudge, algorithm=dns.name.from_text(key.algorithm)
    )
    return msg


def send(server: UpdateServer, wire: bytes, tcp: bool) -> dns.message.Message:
    """Send raw bytes; parse the reply without checking its TSIG."""
    return dns.message.from_wire(send_raw(server, wire, tcp), keyring=False)


def _recv(sock: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        assert chunk, "connection closed"
        out += chunk
    return out


def reply_tsig(reply: dns.message.Message) -> dns.rdtypes.ANY.TSIG.TSIG:
    assert reply.tsig is not None, "the reply must carry a TSIG record"
    rd = reply.tsig[0]
    assert isinstance(rd, dns.rdtypes.ANY.TSIG.TSIG)
    return rd


def split_tsig(wire: bytes) -> tuple[dns.name.Name, dns.rdtypes.ANY.TSIG.TSIG, int]:
    """The TSIG record of ``wire``: its owner, its rdata and its size on the wire.

    Written uncompressed, as dynzone and dnspython write it, so it is the last
    ``size`` bytes of the message.
    """
    msg = dns.message.from_wire(wire, keyring=False)
    rd = reply_tsig(msg)
    owner = msg.tsig.name  # type: ignore[union-attr]
    return owner, rd, len(owner.to_wire()) + 10 + len(rd.to_wire())


def mac_is_valid(raw: bytes, key: Key, request_mac: bytes) -> bool:
    """Check a reply's MAC with dnspython's own signing (even for TSIG errors)."""
    _, rd, record = split_tsig(raw)
    body = raw[: len(raw) - record]
    (arcount,) = struct.unpack_from("!H", body, 10)
    body = body[:10] + struct.pack("!H", arcount - 1) + body[12:]
    dkey = dns.tsig.Key(key.name, base64.b64decode(key.secret), key.algorithm)
    expected, _ = dns.tsig.sign(body, dkey, rd, time=rd.time_signed, request_mac=request_mac)
    return expected.mac == rd.mac


def send_raw(server: UpdateServer, wire: bytes, tcp: bool) -> bytes:
    if tcp:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            s.sendall(struct.pack("!H", len(wire)) + wire)
            size = struct.unpack("!H", _recv(s, 2))[0]
            return _recv(s, size)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(wire, ("127.0.0.1", server.port))
        return s.recv(65535)


def unchanged(server: UpdateServer, serial: int, owner: str = TARGET) -> None:
    assert server.serial() == serial, "the zone must not change"
    assert server.query(owner, "TXT") == []


def retsig(wire: bytes, **changes: object) -> bytes:
    """``wire`` with its TSIG record's fields changed (after signing)."""
    owner, rd, record = split_tsig(wire)
    new = rd.replace(**changes)
    body = new.to_wire()
    return (
        wire[: len(wire) - record]
        + owner.to_wire()
        + struct.pack("!HHIH", dns.rdatatype.TSIG, 255, 0, len(body))
        + body
    )


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_wrong_secret_gets_unsigned_badsig(server: UpdateServer, key: Key, tcp: bool) -> None:
    serial = server.serial()
    wrong = base64.b64encode(b"x" * 32).decode()
    reply = send(server, update(key, secret=wrong).to_wire(), tcp)
    assert reply.rcode() == dns.rcode.NOTAUTH
    rd = reply_tsig(reply)
    assert rd.error == dns.rcode.BADSIG and rd.mac == b"", "BADSIG replies are unsigned"
    unchanged(server, serial)
    # What a client sees: dnspython reports the peer's BADSIG.
    with pytest.raises(dns.tsig.PeerBadSignature):
        dns.query.tcp(update(key, secret=wrong), "127.0.0.1", port=server.port, timeout=5)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_unknown_key_gets_unsigned_badkey(server: UpdateServer, key: Key, tcp: bool) -> None:
    serial = server.serial()
    reply = send(server, update(key, name="no-such-key").to_wire(), tcp)
    assert reply.rcode() == dns.rcode.NOTAUTH
    rd = reply_tsig(reply)
    assert rd.error == dns.rcode.BADKEY and rd.mac == b""
    unchanged(server, serial)
    with pytest.raises(dns.tsig.PeerBadKey):
        dns.query.udp(update(key, name="no-such-key"), "127.0.0.1", port=server.port, timeout=5)


def test_known_key_with_another_algorithm_gets_badkey(server: UpdateServer, key: Key) -> None:
    serial = server.serial()
    msg = dns.update.UpdateMessage(EXAMPLE)
    msg.add(dns.name.from_text(TARGET), 60, "TXT", '"attack"')
    msg.use_tsig(
        {dns.name.from_text(key.name): base64.b64decode(key.secret)},
        algorithm=dns.tsig.HMAC_SHA512,
    )
    reply = send(server, msg.to_wire(), True)
    assert reply.rcode() == dns.rcode.NOTAUTH and reply_tsig(reply).error == dns.rcode.BADKEY
    unchanged(server, serial)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_stale_time_gets_signed_badtime_with_server_time(
    server: UpdateServer, key: Key, tcp: bool
) -> None:
    serial = server.serial()
    msg = update(key)
    signed_at = int(time.time()) - 1000
    with mock.patch("time.time", return_value=float(signed_at)):
        wire = msg.to_wire()
    raw = send_raw(server, wire, tcp)
    reply = dns.message.from_wire(raw, keyring=False)
    assert reply.rcode() == dns.rcode.NOTAUTH
    rd = reply_tsig(reply)
    assert rd.error == dns.rcode.BADTIME
    assert rd.time_signed == signed_at, "a BADTIME reply keeps the request's time"
    server_time = int.from_bytes(rd.other, "big")
    assert len(rd.other) == 6 and abs(server_time - time.time()) < 30
    assert mac_is_valid(raw, key, msg.mac), "BADTIME replies are signed with the request's key"
    unchanged(server, serial)
    # What a client sees: dnspython reports the peer's BADTIME.
    with pytest.raises(dns.tsig.PeerBadTime):
        dns.message.from_wire(raw, keyring=keyring(key), request_mac=msg.mac)


def test_replay_outside_the_fudge_gets_badtime(server: UpdateServer, key: Key) -> None:
    owner = "replay.example.com"
    msg = update(key, owner=owner, fudge=1)
    wire = msg.to_wire()
    first = send(server, wire, True)
    assert first.rcode() == dns.rcode.NOERROR
    assert server.query(owner, "TXT") == ['"attack"']
    undo = dns.update.UpdateMessage(EXAMPLE)
    undo.delete(dns.name.from_text(owner), "TXT")
    undo.use_tsig(keyring(key), algorithm=dns.name.from_text(key.algorithm))
    assert dns.query.tcp(undo, "127.0.0.1", port=server.port, timeout=5).rcode() == 0
    serial = server.serial()
    time.sleep(2.5)  # the captured message is now older than its 1-second fudge
    replay = send(server, wire, True)
    assert replay.rcode() == dns.rcode.NOTAUTH and reply_tsig(replay).error == dns.rcode.BADTIME
    unchanged(server, serial, owner)


def test_truncated_mac(server: UpdateServer, key: Key) -> None:
    serial = server.serial()
    msg = update(key)
    wire = msg.to_wire()
    full = reply_tsig(dns.message.from_wire(wire, keyring=False)).mac
    assert len(full) == 32
    # Half the hash is a truncation the RFC permits; our policy wants the full
    # MAC: BADTRUNC, signed (the truncated MAC is right, so the key is proven).
    raw = send_raw(server, retsig(wire, mac=full[:16]), False)
    reply = dns.message.from_wire(raw, keyring=False)
    assert reply.rcode() == dns.rcode.NOTAUTH and reply_tsig(reply).error == dns.rcode.BADTRUNC
    assert mac_is_valid(raw, key, full[:16])
    # A wrong truncated MAC is just a bad signature.
    bad = bytes(b ^ 0xFF for b in full[:16])
    reply = send(server, retsig(wire, mac=bad), False)
    assert reply_tsig(reply).error == dns.rcode.BADSIG
    # Shorter than 10 bytes (or half the hash), or longer than the hash: FORMERR.
    for mac in (full[:8], full[:15], full + b"\x00"):
        reply = send(server, retsig(wire, mac=mac), True)
        assert reply.rcode() == dns.rcode.FORMERR, len(mac)
    unchanged(server, serial)


def test_update_outside_grants_is_refused_and_signed(server: UpdateServer, key: Key) -> None:
    serial = server.serial()
    msg = dns.update.UpdateMessage(EXAMPLE)
    msg.add(
        dns.name.from_text("www.example.com"), 60, "MX", "10 www.example.com."
    )  # the key may write TXT and A only
    msg.use_tsig(keyring(key), algorithm=dns.name.from_text(key.algorithm))
    reply = dns.query.tcp(msg, "127.0.0.1", port=server.port, timeout=5)  # checks the MAC
    assert reply.rcode() == dns.rcode.REFUSED
    assert server.serial() == serial and server.query("www.example.com", "MX") == []


def test_update_to_a_zone_not_served_is_notauth_and_signed(server: UpdateServer, key: Key) -> None:
    msg = update(key, zone="example.net", owner="www.example.net")
    reply = dns.query.udp(msg, "127.0.0.1", port=server.port, timeout=5)
    assert reply.rcode() == dns.rcode.NOTAUTH
    assert reply.tsig is not None and reply_tsig(reply).error == 0


def test_signed_queries_get_signed_replies(server: UpdateServer, key: Key) -> None:
    for name, rcode in (
        (EXAMPLE, dns.rcode.NOERROR),
        ("nothing.example.com", dns.rcode.NXDOMAIN),
        ("example.org", dns.rcode.REFUSED),
    ):
        for tcp in (False, True):
            q = dns.message.make_query(name, "SOA")
            q.use_tsig(keyring(key), algorithm=dns.name.from_text(key.algorithm))
            query = dns.query.tcp if tcp else dns.query.udp
            reply = query(q, "127.0.0.1", port=server.port, timeout=5)  # validates the TSIG
            assert reply.rcode() == rcode and reply.had_tsig


def test_key_names_compare_case_insensitively(server: UpdateServer, key: Key) -> None:
    owner = "case.example.com"
    msg = update(key, name=key.name.upper(), owner=owner)
    reply = dns.query.tcp(msg, "127.0.0.1", port=server.port, timeout=5)
    assert reply.rcode() == dns.rcode.NOERROR
    assert server.query(owner, "TXT") == ['"attack"']


def test_removed_key_stops_working_at_once(server: UpdateServer) -> None:
    doomed = server.add_key("doomed-key", "*.example.com TXT")
    ok = dns.query.tcp(
        update(doomed, owner="doomed.example.com"), "127.0.0.1", port=server.port, timeout=5
    )
    assert ok.rcode() == dns.rcode.NOERROR
    done = server.cli("key", "remove", "doomed-key")
    assert done.returncode == 0, done.stderr
    serial = server.serial()
    reply = send(server, update(doomed, owner="doomed2.example.com").to_wire(), True)
    assert reply_tsig(reply).error == dns.rcode.BADKEY
    unchanged(server, serial, "doomed2.example.com")


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_a_replayed_update_inside_the_fudge_is_not_applied_again(
    server: UpdateServer, key: Key, tcp: bool
) -> None:
    owner = f"replayed-{'tcp' if tcp else 'udp'}.example.com"
    captured = update(key, owner=owner, text="first").to_wire()
    first = send_raw(server, captured, tcp)
    assert dns.message.from_wire(first, keyring=False).rcode() == dns.rcode.NOERROR
    later = dns.update.UpdateMessage(EXAMPLE)
    later.replace(dns.name.from_text(owner), 60, "TXT", '"second"')
    later.use_tsig(keyring(key), algorithm=dns.name.from_text(key.algorithm))
    assert dns.query.tcp(later, "127.0.0.1", port=server.port, timeout=5).rcode() == 0
    serial = server.serial()
    again = send_raw(server, captured, tcp)
    assert again == first, "a repeat gets the first reply, as a retransmission would"
    assert server.serial() == serial
    assert server.query(owner, "TXT") == ['"second"']
    assert "tsig-replay: UPDATE signed with key attack-key" in server.server.log_text()


def test_a_fudge_wider_than_300_seconds_is_not_honoured(server: UpdateServer, key: Key) -> None:
    serial = server.serial()
    msg = update(key, fudge=65535)
    with mock.patch("time.time", return_value=float(int(time.time()) - 3600)):
        wire = msg.to_wire()
    reply = send(server, wire, True)
    assert reply.rcode() == dns.rcode.NOTAUTH and reply_tsig(reply).error == dns.rcode.BADTIME
    unchanged(server, serial)
