"""The asynchronous path: TSIG-signed messages, UPDATE, NOTIFY and transfers.

The listeners pass here what the responder marks ``HANDOFF``. This runs on
the event loop, so an UPDATE can wait for its commit (in the writer thread),
and a zone transfer can stream many messages, without holding up any query.
The order is RFC 8945's: the TSIG is checked before anything else; a request
that fails gets the TSIG error and nothing more; every reply to a signed
request is signed, whatever its rcode (every message of a transfer too).
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype
import dns.rdtypes.ANY.TSIG

from dynzone.dns import tsig
from dynzone.dns.responder import (
    PLAIN_UDP_LIMIT,
    TCP_LIMIT,
    Responder,
    error_reply,
    question_of,
)
from dynzone.engine.engine import Engine
from dynzone.keys import Keyring
from dynzone.update.door import UpdateDoor
from dynzone.xfr.door import TransferDoor
from dynzone.xfr.notify_in import answer_notify

log = logging.getLogger("dynzone.dns")

# A reply: one message, a stream of them (zone transfers), or nothing.
Reply = bytes | AsyncIterator[bytes] | None
_TRANSFERS = (dns.rdatatype.AXFR, dns.rdatatype.IXFR)


@dataclass(frozen=True)
class Peer:
    address: str
    port: int
    tcp: bool


class AsyncAnswerer:
    """Answers the messages the responder hands off."""

    def __init__(
        self,
        engine: Engine,
        responder: Responder,
        keyring: Keyring,
        updates: UpdateDoor,
        transfers: TransferDoor | None = None,
    ) -> None:
        self.engine = engine
        self.responder = responder
        self.keyring = keyring
        self.updates = updates
        self.transfers = transfers

    async def handle(self, data: bytes, peer: Peer) -> Reply:
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
                    tsig.error_name(signed.error),
                )
                return tsig.sign(self._reply(msg, dns.rcode.NOTAUTH), signed, now)
        answer = await self._answer(data, msg, signed, peer)
        if signed is None:
            return answer
        if isinstance(answer, bytes):
            return tsig.sign(answer, signed, now)
        return _signed_stream(answer, tsig.StreamSigner(signed))

    async def _answer(
        self, data: bytes, msg: dns.message.Message, signed: tsig.Signed | None, peer: Peer
    ) -> bytes | AsyncIterator[bytes]:
        opcode = msg.opcode()
        key = signed.key.name if signed is not None else None
        if opcode == dns.opcode.UPDATE:
            identity = signed.identity if signed is not None else None
            rcode = await self.updates.handle(data, msg, identity, peer.address)
            return self._reply(msg, rcode)
        if opcode not in (dns.opcode.QUERY, dns.opcode.NOTIFY):
            return self._reply(msg, dns.rcode.NOTIMP)
        question = question_of(data)
        if question is None:
            return self._reply(msg, dns.rcode.FORMERR)
        if opcode == dns.opcode.NOTIFY:
            rcode = answer_notify(question, key, peer.address, self.engine)
            return self._reply(msg, rcode, aa=rcode == dns.rcode.NOERROR)
        reserve = tsig.reserve(signed.key) if signed is not None else 0
        if question[1] in _TRANSFERS:
            if self.transfers is None:
                return self._reply(msg, dns.rcode.REFUSED)
            limit = TCP_LIMIT if peer.tcp else self._udp_limit(msg)
            got = await self.transfers.handle(
                msg, question, key, peer.address, peer.tcp, limit - reserve
            )
            return self._reply(msg, got) if isinstance(got, int) else got
        return self.responder.answer(msg, question, peer.tcp, reserve)

    def _udp_limit(self, msg: dns.message.Message) -> int:
        if msg.edns < 0:
            return PLAIN_UDP_LIMIT
        return max(PLAIN_UDP_LIMIT, min(msg.payload, self.responder.payload))

    def _reply(self, msg: dns.message.Message, rcode: int, aa: bool = False) -> bytes:
        """A reply that echoes the request's question (or zone) and says ``rcode``."""
        reply = dns.message.make_response(msg, our_payload=self.responder.payload)
        reply.set_rcode(dns.rcode.Rcode.make(rcode))
        if aa:
            reply.flags |= dns.flags.AA
        return reply.to_wire()


async def _signed_stream(
    stream: AsyncIterator[bytes], signer: tsig.StreamSigner
) -> AsyncIterator[bytes]:
    async for wire in stream:
        yield signer.sign(wire, int(time.time()))


async def answer_later(
    answerer: AsyncAnswerer,
    data: bytes,
    peer: Peer,
    send: Callable[[bytes], bool | None],
    drain: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Answer a handed-off message and pass the reply to ``send``.

    A stream (a zone transfer) is sent message by message; ``drain`` waits
    while the connection's buffer is full, and ``send`` returning False means
    the connection is gone, which ends the stream.
    """
    try:
        reply = await answerer.handle(data, peer)
        if reply is None:
            return
        if isinstance(reply, bytes):
            send(reply)
            return
        sent = 0
        try:
            async for wire in reply:
                if send(wire) is False:
                    log.info("transfer to %s cut short after %d messages", peer.address, sent)
                    return
                sent += 1
                if drain is not None:
                    await drain()
        finally:
            await reply.aclose()  # type: ignore[attr-defined]
    except OSError as exc:
        log.debug("reply to %s not sent: %s", peer.address, exc)
    except Exception:
        log.exception("error answering a message from %s; dropped", peer.address)
