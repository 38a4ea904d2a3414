"""The front of every handed-off message: read it, check its TSIG, make its replies.

RFC 8945's order: the TSIG is checked before anything else; a request that
fails gets the TSIG error and nothing more; every reply to a signed request
is signed, whatever its rcode. Used by ``handoff.py`` and, for the replies
of UPDATEs read without dnspython, by ``update/message.py``.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rdtypes.ANY.TSIG

from dynzone.dns import tsig
from dynzone.dns.responder import error_reply
from dynzone.keys import Keyring
from dynzone.logs import security

log = logging.getLogger("dynzone.dns")


@dataclass(frozen=True)
class Request:
    """A parsed request whose TSIG, if any, checked out (``signed``), read at ``now``."""

    msg: dns.message.Message
    signed: tsig.Signed | None
    now: int


def read_request(
    data: bytes, keyring: Keyring, address: str, payload: int
) -> Request | bytes | None:
    """The request in ``data``, or the reply that ends it here (FORMERR, a TSIG
    error), or None when nothing must be sent (not a request at all)."""
    if len(data) < 12 or data[2] & 0x80:
        return None
    try:
        msg = dns.message.from_wire(data, keyring=False, one_rr_per_rrset=True)
    except (dns.exception.DNSException, ValueError, struct.error) as exc:
        log.debug("malformed message from %s: %s", address, exc)
        return error_reply(data, dns.rcode.FORMERR)
    now = int(time.time())
    if msg.tsig is None:
        return Request(msg, None, now)
    rdata = msg.tsig[0]
    assert isinstance(rdata, dns.rdtypes.ANY.TSIG.TSIG)
    checked = verify(
        data,
        msg.tsig.name,
        rdata,
        keyring,
        address,
        now,
        lambda rcode: reply(data, msg, rcode, payload),
    )
    return checked if isinstance(checked, bytes) else Request(msg, checked, now)


def verify(
    data: bytes,
    owner: dns.name.Name,
    rdata: dns.rdtypes.ANY.TSIG.TSIG | tsig.TsigFields,
    keyring: Keyring,
    address: str,
    now: int,
    refuse: Callable[[int], bytes],
) -> tsig.Signed | bytes:
    """Check the TSIG record (``owner``, ``rdata``) of ``data``: the checked signer,
    or the reply that ends the request (``refuse`` makes the unsigned reply for
    an rcode)."""
    try:
        signed = tsig.check(data, owner, rdata, keyring.find, now)
    except tsig.TsigFailure as failure:
        security("bad-tsig", f"key {owner}: {failure}; refused", client=address)
        answer = refuse(failure.rcode)
        if failure.rcode == dns.rcode.FORMERR:
            return answer
        return tsig.unsigned_error(answer, failure)
    if signed.error:
        security(
            "bad-tsig",
            f"key {signed.key.name}: {tsig.error_name(signed.error)}",
            client=address,
        )
        return tsig.sign(refuse(dns.rcode.NOTAUTH), signed, now)
    return signed


def reply(
    data: bytes, msg: dns.message.Message, rcode: int, payload: int, aa: bool = False
) -> bytes:
    """A reply to the request ``data`` (parsed: ``msg``) that echoes its question
    (or zone) and says ``rcode``; what dnspython's ``make_response`` renders.

    The common case (one question, no EDNS padding) is written directly from
    the request's bytes, at a fraction of the cost; tests/dns/test_signed.py
    proves the two identical.
    """
    if len(msg.question) == 1 and not _padded(msg) and rcode < 16:
        qend = tsig.skip_name(data, 12) + 4
        return plain_reply(data, qend, msg.edns >= 0, rcode, payload, aa)
    answer = dns.message.make_response(msg, our_payload=payload)
    answer.set_rcode(dns.rcode.Rcode.make(rcode))
    if aa:
        answer.flags |= dns.flags.AA
    return answer.to_wire()


# Plain ints: an operation on dnspython's flag enums costs a microsecond or two.
_QR = int(dns.flags.QR)
_AA = int(dns.flags.AA)


def plain_reply(
    data: bytes, qend: int, edns: bool, rcode: int, payload: int, aa: bool = False
) -> bytes:
    """The reply to the one-question request ``data`` (its question ending at
    ``qend``) saying ``rcode`` (< 16): the request's ID, RD bit, opcode and
    question, and with ``edns`` an OPT offering ``payload``."""
    flags = (
        _QR
        | (data[2] & 0x01) << 8  # RD, echoed
        | (data[2] & 0x78) << 8  # the opcode
        | rcode
        | (_AA if aa else 0)
    )
    out = data[:2] + struct.pack("!HHHHH", flags, 1, 0, 0, 1 if edns else 0) + data[12:qend]
    if edns:
        out += b"\x00" + struct.pack("!HHIH", dns.rdatatype.OPT, payload, 0, 0)
    return out


def _padded(msg: dns.message.Message) -> bool:
    return msg.edns >= 0 and any(o.otype == dns.edns.OptionType.PADDING for o in msg.options)


def sealed(answer: bytes, signed: tsig.Signed | None, now: int) -> bytes:
    """``answer`` signed with the request's key, if the request was signed."""
    return answer if signed is None else tsig.sign(answer, signed, now)
