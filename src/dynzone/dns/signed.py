"""The front of every handed-off message: read it, check its TSIG, make its replies.

RFC 8945's order: the TSIG is checked before anything else; a request that
fails gets the TSIG error and nothing more; every reply to a signed request
is signed, whatever its rcode. Shared by the serving process (``handoff.py``)
and the update worker (``update/worker.py``).
"""

from __future__ import annotations

import logging
import struct
import time
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdtypes.ANY.TSIG

from dynzone.dns import tsig
from dynzone.dns.responder import error_reply
from dynzone.keys import Keyring

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
    try:
        signed = tsig.check(data, msg.tsig.name, rdata, keyring.find, now)
    except tsig.TsigFailure as failure:
        log.warning("TSIG from %s with key %s: %s; refused", address, msg.tsig.name, failure)
        answer = reply(msg, failure.rcode, payload)
        if failure.rcode == dns.rcode.FORMERR:
            return answer
        return tsig.unsigned_error(answer, failure)
    if signed.error:
        log.warning(
            "TSIG from %s with key %s: %s",
            address,
            signed.key.name,
            tsig.error_name(signed.error),
        )
        return tsig.sign(reply(msg, dns.rcode.NOTAUTH, payload), signed, now)
    return Request(msg, signed, now)


def reply(msg: dns.message.Message, rcode: int, payload: int, aa: bool = False) -> bytes:
    """A reply that echoes the request's question (or zone) and says ``rcode``."""
    answer = dns.message.make_response(msg, our_payload=payload)
    answer.set_rcode(dns.rcode.Rcode.make(rcode))
    if aa:
        answer.flags |= dns.flags.AA
    return answer.to_wire()


def sealed(answer: bytes, signed: tsig.Signed | None, now: int) -> bytes:
    """``answer`` signed with the request's key, if the request was signed."""
    return answer if signed is None else tsig.sign(answer, signed, now)
