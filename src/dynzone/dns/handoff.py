"""The asynchronous path: TSIG-signed messages and UPDATEs.

The listeners pass here what the responder marks ``HANDOFF``. This runs on
the event loop, so an UPDATE can wait for its commit (in the writer thread)
without holding up any query. The order is RFC 8945's: the TSIG is checked
before anything else; a request that fails gets the TSIG error and nothing
more; every reply to a signed request is signed, whatever its rcode.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

import dns.exception
import dns.message
import dns.opcode
import dns.rcode
import dns.rdtypes.ANY.TSIG

from dynzone.dns import tsig
from dynzone.dns.responder import Responder, error_reply, question_of
from dynzone.keys import Keyring
from dynzone.update.door import UpdateDoor

log = logging.getLogger("dynzone.dns")


@dataclass(frozen=True)
class Peer:
    address: str
    port: int
    tcp: bool


class AsyncAnswerer:
    """Answers the messages the responder hands off."""

    def __init__(self, responder: Responder, keyring: Keyring, updates: UpdateDoor) -> None:
        self.responder = responder
        self.keyring = keyring
        self.updates = updates

    async def handle(self, data: bytes, peer: Peer) -> bytes | None:
        """The reply to ``data``, or None if none must be sent."""
        if len(data) < 12 or data[2] & 0x80:
            return None
        try:
            msg = dns.message.from_wire(data, keyring=False, one_rr_per_rrset=True)
        except (dns.exception.DNSException, ValueError, struct.error) as exc:
            log.debug("malformed message from %s: %s", peer.address, exc)
            return error_reply(data, dns.rcode.FORMERR)
        now = int(time.time())
        signed = None
        if msg.tsig is not None:
            rdata = msg.tsig[0]
            assert isinstance(rdata, dns.rdtypes.ANY.TSIG.TSIG)
            try:
                signed = tsig.check(data, msg.tsig.name, rdata, self.keyring.find, now)
            except tsig.TsigFailure as failure:
                log.warning(
                    "TSIG from %s with key %s: %s; refused",
                    peer.address,
                    msg.tsig.name,
                    failure,
                )
                reply = self._reply(msg, failure.rcode)
                if failure.rcode == dns.rcode.FORMERR:
                    return reply
                return tsig.unsigned_error(reply, failure)
            if signed.error:
                log.warning(
                    "TSIG from %s with key %s: %s",
                    peer.address,
                    signed.key.name,
                    dns.rcode.to_text(dns.rcode.Rcode.make(signed.error)),
                )
                return tsig.sign(self._reply(msg, dns.rcode.NOTAUTH), signed, now)
        reply = await self._answer(data, msg, signed, peer)
        return reply if signed is None else tsig.sign(reply, signed, now)

    async def _answer(
        self, data: bytes, msg: dns.message.Message, signed: tsig.Signed | None, peer: Peer
    ) -> bytes:
        opcode = msg.opcode()
        if opcode == dns.opcode.UPDATE:
            identity = signed.identity if signed is not None else None
            rcode = await self.updates.handle(data, msg, identity, peer.address)
            return self._reply(msg, rcode)
        if opcode == dns.opcode.QUERY:
            question = question_of(data)
            if question is None:
                return self._reply(msg, dns.rcode.FORMERR)
            reserve = tsig.reserve(signed.key) if signed is not None else 0
            return self.responder.answer(msg, question, peer.tcp, reserve)
        return self._reply(msg, dns.rcode.NOTIMP)

    def _reply(self, msg: dns.message.Message, rcode: int) -> bytes:
        """A reply that echoes the request's question (or zone) and says ``rcode``."""
        reply = dns.message.make_response(msg, our_payload=self.responder.payload)
        reply.set_rcode(dns.rcode.Rcode.make(rcode))
        return reply.to_wire()


async def answer_later(
    answerer: AsyncAnswerer, data: bytes, peer: Peer, send: Callable[[bytes], None]
) -> None:
    """Answer a handed-off message and pass the reply to ``send``."""
    try:
        reply = await answerer.handle(data, peer)
    except Exception:
        log.exception("error answering a message from %s; dropped", peer.address)
        return
    if reply is not None:
        try:
            send(reply)
        except OSError as exc:
            log.debug("reply to %s not sent: %s", peer.address, exc)
