"""Server-side TSIG checks and reply signing, against dnspython as the client."""

from __future__ import annotations

import base64
import struct

import dns.message
import dns.name
import dns.rcode
import dns.rdtypes.ANY.TSIG
import dns.tsig
import dns.tsigkeyring
import pytest

from dynzone.dns import tsig
from dynzone.keys import TsigKey
from dynzone.policy import Identity

KEY = TsigKey("test-key", "hmac-sha256", base64.b64encode(b"k" * 32).decode())
IDENTITY = Identity("key:test-key", ())
RING = dns.tsigkeyring.from_text({"test-key": ("hmac-sha256", KEY.secret)})


def lookup(name: dns.name.Name) -> tuple[TsigKey, Identity] | None:
    return (KEY, IDENTITY) if name == dns.name.from_text("test-key") else None


def signed_query(
    ring: dict = RING, algorithm: dns.name.Name = dns.tsig.HMAC_SHA256
) -> tuple[dns.message.Message, bytes]:
    q = dns.message.make_query("www.example.com", "A")
    q.use_tsig(ring, algorithm=algorithm)
    return q, q.to_wire()


def check(wire: bytes, now: int | None = None) -> tsig.Signed:
    msg = dns.message.from_wire(wire, keyring=False)
    assert msg.tsig is not None
    rd = msg.tsig[0]
    assert isinstance(rd, dns.rdtypes.ANY.TSIG.TSIG)
    return tsig.check(wire, msg.tsig.name, rd, lookup, rd.time_signed if now is None else now)


def with_mac(wire: bytes, mac: bytes) -> bytes:
    msg = dns.message.from_wire(wire, keyring=False)
    assert msg.tsig is not None
    rd = msg.tsig[0]
    start = tsig.tsig_start(wire)
    body = rd.replace(mac=mac).to_wire()
    owner = msg.tsig.name.to_wire()
    assert owner is not None and body is not None
    return wire[:start] + owner + struct.pack("!HHIH", 250, 255, 0, len(body)) + body


def test_a_good_signature_passes() -> None:
    _, wire = signed_query()
    signed = check(wire)
    assert signed.error == 0 and signed.identity is IDENTITY


def test_key_names_are_case_insensitive() -> None:
    ring = dns.tsigkeyring.from_text({"TEST-Key": ("hmac-sha256", KEY.secret)})
    assert check(signed_query(ring)[1]).error == 0


def test_unknown_key_and_other_algorithm_are_badkey() -> None:
    other_name = dns.tsigkeyring.from_text({"other": ("hmac-sha256", KEY.secret)})
    other_algorithm = dns.tsigkeyring.from_text({"test-key": ("hmac-sha512", KEY.secret)})
    for ring in (other_name, other_algorithm):
        with pytest.raises(tsig.TsigFailure) as failure:
            check(signed_query(ring)[1])
        assert failure.value.rcode == dns.rcode.NOTAUTH
        assert failure.value.error == dns.rcode.BADKEY


def test_wrong_secret_is_badsig() -> None:
    wrong = dns.tsigkeyring.from_text(
        {"test-key": ("hmac-sha256", base64.b64encode(b"x" * 32).decode())}
    )
    with pytest.raises(tsig.TsigFailure) as failure:
        check(signed_query(wrong)[1])
    assert failure.value.rcode == dns.rcode.NOTAUTH and failure.value.error == dns.rcode.BADSIG


def test_time_outside_the_fudge_is_badtime_after_the_mac_check() -> None:
    _, wire = signed_query()
    signed_at = check(wire).time_signed
    assert check(wire, signed_at + 300).error == 0
    assert check(wire, signed_at + 301).error == dns.rcode.BADTIME
    assert check(wire, signed_at - 301).error == dns.rcode.BADTIME


def test_mac_lengths() -> None:
    _, wire = signed_query()
    full = dns.message.from_wire(wire, keyring=False).tsig[0].mac  # type: ignore[index]
    assert check(with_mac(wire, full[:16])).error == dns.rcode.BADTRUNC
    for mac in (full[:15], full[:9], full + b"\0"):
        with pytest.raises(tsig.TsigFailure) as failure:
            check(with_mac(wire, mac))
        assert failure.value.rcode == dns.rcode.FORMERR and failure.value.error == 0


def test_a_signed_reply_validates_in_dnspython() -> None:
    q, wire = signed_query()
    signed = check(wire)
    reply = dns.message.make_response(dns.message.from_wire(wire, keyring=False))
    raw = tsig.sign(reply.to_wire(), signed, signed.time_signed)
    # dnspython checks the MAC, which covers the request's MAC.
    parsed = dns.message.from_wire(raw, keyring=RING, request_mac=q.mac)
    assert parsed.had_tsig


def test_a_badtime_reply_carries_our_time_and_the_request_time() -> None:
    _, wire = signed_query()
    signed = check(wire, 10**9)
    reply = dns.message.make_response(dns.message.from_wire(wire, keyring=False))
    raw = tsig.sign(reply.to_wire(), signed, 10**9)
    rd = dns.message.from_wire(raw, keyring=False).tsig[0]  # type: ignore[index]
    assert rd.error == dns.rcode.BADTIME
    assert rd.time_signed == signed.time_signed
    assert int.from_bytes(rd.other, "big") == 10**9


def test_an_unsigned_error_names_the_error_without_a_mac() -> None:
    _, wire = signed_query(dns.tsigkeyring.from_text({"other": ("hmac-sha256", KEY.secret)}))
    with pytest.raises(tsig.TsigFailure) as failure:
        check(wire)
    reply = dns.message.make_response(dns.message.from_wire(wire, keyring=False))
    raw = tsig.unsigned_error(reply.to_wire(), failure.value)
    rd = dns.message.from_wire(raw, keyring=False).tsig[0]  # type: ignore[index]
    assert rd.error == dns.rcode.BADKEY and rd.mac == b""


def test_every_message_of_a_stream_is_signed_and_validates_in_dnspython() -> None:
    q, wire = signed_query()
    signed = check(wire)
    signer = tsig.StreamSigner(signed)
    reply = dns.message.make_response(dns.message.from_wire(wire, keyring=False))
    raws = [signer.sign(reply.to_wire(), signed.time_signed + i) for i in range(3)]
    # dnspython's multi-message check: each MAC covers the previous one.
    ctx = None
    for i, raw in enumerate(raws):
        parsed = dns.message.from_wire(
            raw, keyring=RING, request_mac=q.mac, multi=True, tsig_ctx=ctx
        )
        assert parsed.had_tsig, i
        ctx = parsed.tsig_ctx
    # A message signed out of turn fails.
    with pytest.raises(dns.tsig.BadSignature):
        dns.message.from_wire(raws[2], keyring=RING, request_mac=q.mac, multi=True, tsig_ctx=None)


# The MACs of single messages are ours (dns/tsig.py's _mac and _record);
# dnspython is the reference they must equal, for every algorithm and case.
ALGORITHMS = ["hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_request_macs_equal_dnspythons_for_every_algorithm(algorithm: str) -> None:
    key = TsigKey("Mixed.Case-Key", algorithm, base64.b64encode(bytes(range(40))).decode())
    for other in (b"", b"\x00\x01\x02\x03\x04\x05"):
        q = dns.message.make_query("www.example.com", "TXT")
        q.use_tsig(key.dns_key, fudge=123, tsig_error=0, other_data=other)
        wire = q.to_wire()
        msg = dns.message.from_wire(wire, keyring=False)
        assert msg.tsig is not None
        rd = msg.tsig[0]
        start = tsig.tsig_start(wire)
        unsigned = wire[:10] + struct.pack("!H", 0) + wire[12:start]
        ours = tsig._mac(key, unsigned, rd.original_id, rd.time_signed, rd.fudge, 0, other)
        assert ours == rd.mac


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("error", [0, dns.rcode.BADTIME])
def test_signed_replies_equal_dnspythons_bytes(algorithm: str, error: int) -> None:
    key = TsigKey("k.example", algorithm, base64.b64encode(bytes(range(7, 47))).decode())
    signed = tsig.Signed(key, IDENTITY, b"\x42" * key.mac_size, 1_700_000_000, 4321, error)
    reply = dns.message.make_response(dns.message.make_query("example.com", "SOA"))
    reply.id = 999
    wire = reply.to_wire()
    now = 1_700_000_100
    ours = tsig.sign(wire, signed, now)
    # The same record made by dnspython.
    other = struct.pack("!HI", 0, now) if error == dns.rcode.BADTIME else b""
    when = signed.time_signed if error == dns.rcode.BADTIME else now
    template = dns.rdtypes.ANY.TSIG.TSIG(
        dns.rdataclass.ANY, dns.rdatatype.TSIG, key.dns_key.algorithm, when,
        tsig.FUDGE, b"", 4321, error, other,
    )  # fmt: skip
    rdata, _ = dns.tsig.sign(wire, key.dns_key, template, time=when, request_mac=signed.mac)
    owner = key.dns_key.name.to_wire()
    body = rdata.to_wire()
    assert owner is not None and body is not None
    expected = (
        wire[:10]
        + struct.pack("!H", 1)
        + wire[12:]
        + owner
        + struct.pack("!HHIH", dns.rdatatype.TSIG, dns.rdataclass.ANY, 0, len(body))
        + body
    )
    assert ours == expected


def test_tsig_start_refuses_truncated_and_bad_names() -> None:
    _, wire = signed_query()
    assert tsig.tsig_start(wire) < len(wire)
    for bad in (wire[:20], wire[:12] + b"\x80" + wire[13:]):
        with pytest.raises(ValueError):
            tsig.tsig_start(bad)
