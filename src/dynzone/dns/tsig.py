"""TSIG on the server side (RFC 8945): check a request's MAC, sign the reply.

The MAC of a single message is computed here with ``hmac`` directly
(``_mac``): dnspython's own path rebuilds TSIG rdata with ``replace``, which
costs more than the rest of an UPDATE's TSIG work together, and a signed
UPDATE pays it twice. tests/dns/test_tsig.py proves both give the same MACs
and records; the multi-message MACs of zone transfers stay dnspython's
(``StreamSigner``). What is ours besides is the order of the checks and the
error replies, which dnspython's own validation does not give (RFC 8945 §5.2):

1. the key: unknown name or another algorithm -> BADKEY, unsigned;
2. the MAC's length: longer than the hash, or shorter than max(10, half the
   hash) -> FORMERR, unsigned (§5.2.2.1);
3. the MAC itself -> BADSIG, unsigned;
4. the time: outside the fudge -> BADTIME, signed, with our time (§5.2.3).
   The client's fudge is honoured up to our own 300 s, never more: a
   message signed with a fudge of 65,535 s would stay valid for 18 hours;
5. truncation: a shorter MAC the RFC permits, but our policy is the full
   length -> BADTRUNC, signed (§5.2.4).

Errors of 1-3 are answered without a MAC because the key or the request
cannot be trusted (§5.3.2); the reply still carries a TSIG record naming the
error, which is what clients (nsupdate, dnspython) read.
"""

from __future__ import annotations

import hmac
import struct
from collections.abc import Callable
from dataclasses import dataclass

import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TSIG
import dns.tsig

from dynzone.keys import TsigKey
from dynzone.policy import Identity

# The fudge we put in our replies: RFC 8945 §10 recommends 300 seconds.
FUDGE = 300
_CLASS_ANY_TTL_0 = struct.pack("!HI", dns.rdataclass.ANY, 0)

Lookup = Callable[[dns.name.Name], "tuple[TsigKey, Identity] | None"]


@dataclass(slots=True)
class Signed:
    """A request whose TSIG passed checks 1-3; ``error`` is set by checks 4-5."""

    key: TsigKey
    identity: Identity
    mac: bytes  # as received: a reply's MAC covers it
    time_signed: int
    original_id: int
    error: int = 0


@dataclass(slots=True)
class TsigFields:
    """A request's TSIG record fields, read from the wire without building
    dnspython's rdata (update/message.py); what ``check`` needs of either."""

    algorithm: dns.name.Name
    time_signed: int
    fudge: int
    mac: bytes
    original_id: int
    error: int
    other: bytes

    def to_rdata(self) -> dns.rdtypes.ANY.TSIG.TSIG:
        return dns.rdtypes.ANY.TSIG.TSIG(
            dns.rdataclass.ANY,
            dns.rdatatype.TSIG,
            self.algorithm,
            self.time_signed,
            self.fudge,
            self.mac,
            self.original_id,
            self.error,
            self.other,
        )


class TsigFailure(Exception):
    """A request that fails checks 1-3: answer it with ``reply`` (unsigned)."""

    def __init__(self, rcode: int, error: int, owner: dns.name.Name, rdata: object) -> None:
        super().__init__(error_name(error or rcode))
        self.rcode = rcode
        self.error = error
        self.owner = owner
        self.rdata = rdata


_ERRORS = {16: "BADSIG", 17: "BADKEY", 18: "BADTIME", 22: "BADTRUNC"}


def error_name(error: int) -> str:
    """A TSIG error's name (16 is BADSIG here, not the BADVERS of an OPT record)."""
    return _ERRORS.get(error) or dns.rcode.to_text(dns.rcode.Rcode.make(error))


def skip_name(wire: bytes, at: int) -> int:
    """Where the (possibly compressed) name at ``at`` ends; raises ValueError if
    it runs off the end or uses a label type that does not exist."""
    while True:
        length = wire[at]
        if length == 0:
            return at + 1
        if length & 0xC0 == 0xC0:
            if at + 1 >= len(wire):
                raise ValueError("truncated compression pointer")
            return at + 2
        if length & 0xC0:
            raise ValueError("unknown label type")
        at += length + 1
        if at >= len(wire):
            raise ValueError("truncated name")


def tsig_start(wire: bytes) -> int:
    """Where the last record of ``wire`` starts (a TSIG must be last)."""
    qd, an, ns, ar = struct.unpack_from("!HHHH", wire, 4)
    try:
        at = 12
        for _ in range(qd):
            at = skip_name(wire, at) + 4
        for _ in range(an + ns + ar - 1):
            at = skip_name(wire, at) + 8
            (rdlen,) = struct.unpack_from("!H", wire, at)
            at += 2 + rdlen
    except IndexError:
        raise ValueError("truncated message") from None
    if at >= len(wire):
        raise ValueError("truncated message")
    return at


def _mac(
    key: TsigKey,
    message: bytes,
    original_id: int,
    time_signed: int,
    fudge: int,
    error: int,
    other: bytes,
    request_mac: bytes | None = None,
) -> bytes:
    """The MAC of ``message`` (without its TSIG record) and these TSIG variables
    (RFC 8945 §4.3.3), as dnspython's ``tsig.sign`` computes it."""
    h = key.hmac_template.copy()
    if request_mac is not None:
        h.update(struct.pack("!H", len(request_mac)) + request_mac)
    h.update(
        b"".join(
            (
                struct.pack("!H", original_id),
                message[2:],
                key.name_digestable,
                _CLASS_ANY_TTL_0,
                key.algorithm_digestable,
                struct.pack(
                    "!HIHHH",
                    time_signed >> 32 & 0xFFFF,
                    time_signed & 0xFFFFFFFF,
                    fudge,
                    error,
                    len(other),
                ),
                other,
            )
        )
    )
    return h.digest()


def _record(
    key: TsigKey,
    time_signed: int,
    mac: bytes,
    original_id: int,
    error: int,
    other: bytes,
) -> bytes:
    """A TSIG record of ``key`` in wire form (names uncompressed, RFC 8945 §4.2)."""
    rdata = b"".join(
        (
            key.algorithm_wire,
            struct.pack(
                "!HIHH", time_signed >> 32 & 0xFFFF, time_signed & 0xFFFFFFFF, FUDGE, len(mac)
            ),
            mac,
            struct.pack("!HHH", original_id, error, len(other)),
            other,
        )
    )
    head = struct.pack("!HHIH", dns.rdatatype.TSIG, dns.rdataclass.ANY, 0, len(rdata))
    return key.name_wire + head + rdata


def check(
    wire: bytes,
    owner: dns.name.Name,
    rdata: dns.rdtypes.ANY.TSIG.TSIG | TsigFields,
    lookup: Lookup,
    now: int,
) -> Signed:
    """Check the TSIG ``rdata`` (owned by ``owner``) of request ``wire``.

    Returns the Signed request (with ``error`` BADTIME or BADTRUNC when the
    reply must say so, signed), or raises TsigFailure.
    """
    found = lookup(owner)
    if found is None or found[0].dns_key.algorithm != rdata.algorithm:
        raise TsigFailure(dns.rcode.NOTAUTH, dns.rcode.BADKEY, owner, rdata)
    key, identity = found
    full = key.mac_size
    size = len(rdata.mac)
    if size > full or size < max(10, full // 2):
        raise TsigFailure(dns.rcode.FORMERR, 0, owner, rdata)
    start = tsig_start(wire)
    (arcount,) = struct.unpack_from("!H", wire, 10)
    unsigned = wire[:10] + struct.pack("!H", arcount - 1) + wire[12:start]
    expected = _mac(
        key,
        unsigned,
        rdata.original_id,
        rdata.time_signed,
        rdata.fudge,
        rdata.error,
        rdata.other,
    )
    if not hmac.compare_digest(expected[:size], rdata.mac):
        raise TsigFailure(dns.rcode.NOTAUTH, dns.rcode.BADSIG, owner, rdata)
    error = 0
    if abs(rdata.time_signed - now) > min(rdata.fudge, FUDGE):
        error = dns.rcode.BADTIME
    elif size < full:
        error = dns.rcode.BADTRUNC
    return Signed(key, identity, rdata.mac, rdata.time_signed, rdata.original_id, error)


def sign(reply: bytes, signed: Signed, now: int) -> bytes:
    """``reply`` with a TSIG record appended, signed with the request's key.

    A BADTIME reply keeps the request's time and carries ours in Other Data
    (RFC 8945 §5.2.3), so the client can see how far apart the clocks are.
    """
    key = signed.key
    other = b""
    when = now
    if signed.error == dns.rcode.BADTIME:
        other = struct.pack("!HI", (now >> 32) & 0xFFFF, now & 0xFFFFFFFF)
        when = signed.time_signed
    mac = _mac(key, reply, signed.original_id, when, FUDGE, signed.error, other, signed.mac)
    record = _record(key, when, mac, signed.original_id, signed.error, other)
    (arcount,) = struct.unpack_from("!H", reply, 10)
    return reply[:10] + struct.pack("!H", arcount + 1) + reply[12:] + record


class StreamSigner:
    """Signs every message of a multi-message reply, such as a zone transfer.

    RFC 8945 §5.3.1: the first MAC covers the request's MAC, the message and
    all TSIG variables; each later one covers the previous MAC, the message
    and the timers only. dnspython keeps that running digest for us.
    """

    def __init__(self, signed: Signed) -> None:
        self.signed = signed
        self._ctx: object = None

    def sign(self, reply: bytes, now: int) -> bytes:
        key = self.signed.key.dns_key
        template = dns.rdtypes.ANY.TSIG.TSIG(
            dns.rdataclass.ANY,
            dns.rdatatype.TSIG,
            key.algorithm,
            now,
            FUDGE,
            b"",
            self.signed.original_id,
            0,
            b"",
        )
        rdata, self._ctx = dns.tsig.sign(
            reply, key, template, time=now, request_mac=self.signed.mac, ctx=self._ctx, multi=True
        )
        return _append(reply, key.name, rdata)


def unsigned_error(reply: bytes, failure: TsigFailure) -> bytes:
    """``reply`` with a TSIG record that names the error and has no MAC (§5.3.2)."""
    req = failure.rdata
    if isinstance(req, TsigFields):
        req = req.to_rdata()
    assert isinstance(req, dns.rdtypes.ANY.TSIG.TSIG)
    rdata = req.replace(mac=b"", error=failure.error, other=b"")
    return _append(reply, failure.owner, rdata)


def reserve(key: TsigKey) -> int:
    """The most room a TSIG record of ``key`` takes in a reply."""
    name = len(key.dns_key.name.to_wire() or b"")
    algorithm = len(key.dns_key.algorithm.to_wire() or b"")
    # owner, type/class/TTL/rdlength, then algorithm, time, fudge, MAC size,
    # MAC, original ID, error, other length and 6 bytes of other data.
    return name + 10 + algorithm + 6 + 2 + 2 + key.mac_size + 2 + 2 + 2 + 6


def _append(reply: bytes, owner: dns.name.Name, rdata: dns.rdata.Rdata) -> bytes:
    body = rdata.to_wire()
    assert body is not None
    (arcount,) = struct.unpack_from("!H", reply, 10)
    owner_wire = owner.to_wire()
    assert owner_wire is not None
    record = (
        owner_wire
        + struct.pack("!HHIH", dns.rdatatype.TSIG, dns.rdataclass.ANY, 0, len(body))
        + body
    )
    return reply[:10] + struct.pack("!H", arcount + 1) + reply[12:] + record
