"""The handed-off path: TSIG-signed messages, UPDATE, NOTIFY and transfers.

The listeners pass here what the responder marks ``HANDOFF``, so that no
query waits for them. ``first`` does, in the calling thread, everything that
needs no waiting: the TSIG check, NOTIFY, signed queries, and the checks of
an UPDATE up to its ChangeSet. What is left is a ``Commit`` (the ChangeSet,
and how to turn its result into the reply) or ``Later`` (a zone transfer,
which reads the journal and may stream many messages).

* The UDP listener thread (``answer_in_thread``) hands a ``Commit`` straight
  to the engine's writer (``Engine.submit``), which sends the reply once the
  change is durable and served; only ``Later`` goes to the event loop.
* TCP, and UDP without the listener thread, run on the event loop
  (``answer_later``, ``handle``), awaiting ``Engine.commit``.

Handed-off work costs far more than a query (a TSIG check, a commit, a
transfer), so how much of it may be in progress is bounded (``InFlight``):
per source address and in all. A message beyond either bound is dropped,
counted and logged (rate-limited): a flood from one source cannot queue
work ahead of everyone else's UPDATEs and transfers.

The order is RFC 8945's (``signed.py``): the TSIG is checked before anything
else, and every reply to a signed request is signed, whatever its rcode
(every message of a transfer too).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype

from dynzone.dns import signed, tsig
from dynzone.dns.replay import ReplayGuard
from dynzone.dns.responder import PLAIN_UDP_LIMIT, TCP_LIMIT, Responder, question_of
from dynzone.engine.changeset import ChangeSet, Outcome
from dynzone.engine.engine import Engine
from dynzone.keys import Keyring
from dynzone.logs import security
from dynzone.metrics import TRANSFERS
from dynzone.update import message
from dynzone.update.door import UpdateDoor
from dynzone.update.sections import UpdateError
from dynzone.xfr.door import TransferDoor
from dynzone.xfr.notify_in import answer_notify

log = logging.getLogger("dynzone.dns")

# A reply: one message, a stream of them (zone transfers), or nothing.
Reply = bytes | AsyncIterator[bytes] | None
_TRANSFERS = (dns.rdatatype.AXFR, dns.rdatatype.IXFR)


# One client may keep 128 in progress: a bulk updater (dnsperf, a provisioning
# script) sending 64 at once must not see half of them dropped, while eight
# such clients still cannot take every slot.
PER_SOURCE = 128
IN_ALL = 1024


class InFlight:
    """Handed-off messages being worked on, per source address (any thread)."""

    def __init__(self, per_source: int = PER_SOURCE, in_all: int = IN_ALL) -> None:
        self.per_source = per_source
        self.in_all = in_all
        self.by_source: Counter[str] = Counter()
        self.total = 0
        self.refused = 0
        self._lock = threading.Lock()

    def enter(self, address: str) -> bool:
        with self._lock:
            if self.total >= self.in_all or self.by_source[address] >= self.per_source:
                self.refused += 1
                refused = True
            else:
                self.by_source[address] += 1
                self.total += 1
                refused = False
        if refused:
            security(
                "handoff-limit",
                "too many UPDATE/NOTIFY/transfer/signed messages in progress; dropped",
                client=address,
            )
        return not refused

    def leave(self, address: str) -> None:
        with self._lock:
            self.total -= 1
            self.by_source[address] -= 1
            if not self.by_source[address]:
                del self.by_source[address]


@dataclass(slots=True)
class Peer:
    address: str
    port: int
    tcp: bool


@dataclass(slots=True)
class Commit:
    """An UPDATE ready for the engine: its ChangeSet, and ``reply``, which turns the
    commit's outcomes (or the error it raised) into the signed reply."""

    changeset: ChangeSet
    reply: Callable[[list[Outcome] | None, BaseException | None], bytes]


@dataclass(frozen=True)
class Later:
    """Work only the event loop can do (a zone transfer); ``run`` gives the reply."""

    run: Callable[[], Awaitable[Reply]]


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
        self.replays = ReplayGuard()
        self.inflight = InFlight()

    async def handle(self, data: bytes, peer: Peer) -> Reply:
        """The reply to ``data``, or None if none must be sent (on the event loop)."""
        step = self.first(data, peer)
        if isinstance(step, Commit):
            try:
                outcomes = await self.engine.commit(step.changeset)
            except Exception as exc:  # noqa: BLE001 - the reply says what it means
                return step.reply(None, exc)
            return step.reply(outcomes, None)
        if isinstance(step, Later):
            return await step.run()
        return step

    def first(self, data: bytes, peer: Peer) -> bytes | Commit | Later | None:
        """Everything about ``data`` that needs no waiting, in the calling thread."""
        payload = self.responder.payload
        if message.is_update(data):
            update = message.read(data)
            if update is not None:
                return self._update(update, peer)
        request = signed.read_request(data, self.keyring, peer.address, payload)
        if not isinstance(request, signed.Request):
            return request
        msg, key, now = request.msg, request.signed, request.now
        opcode = msg.opcode()
        if opcode == dns.opcode.UPDATE:
            return self._update(message.from_message(data, msg), peer, request)
        if opcode not in (dns.opcode.QUERY, dns.opcode.NOTIFY):
            return signed.sealed(signed.reply(data, msg, dns.rcode.NOTIMP, payload), key, now)
        question = question_of(data)
        if question is None:
            return signed.sealed(signed.reply(data, msg, dns.rcode.FORMERR, payload), key, now)
        key_name = key.key.name if key is not None else None
        if opcode == dns.opcode.NOTIFY:
            rcode = answer_notify(question, key_name, peer.address, self.engine)
            reply = signed.reply(data, msg, rcode, payload, aa=rcode == dns.rcode.NOERROR)
            return signed.sealed(reply, key, now)
        reserve = tsig.reserve(key.key) if key is not None else 0
        if question[1] in _TRANSFERS:
            transfers = self.transfers
            if transfers is None:
                return signed.sealed(signed.reply(data, msg, dns.rcode.REFUSED, payload), key, now)
            limit = TCP_LIMIT if peer.tcp else self._udp_limit(msg)

            async def transfer() -> Reply:
                got = await transfers.handle(
                    msg, question, key_name, peer.address, peer.tcp, limit - reserve
                )
                result = _rcode_text(got) if isinstance(got, int) else "ok"
                kind = "AXFR" if question[1] == dns.rdatatype.AXFR else "IXFR"
                TRANSFERS.labels(kind, result).inc()
                when = int(time.time())
                if isinstance(got, int):
                    return signed.sealed(signed.reply(data, msg, got, payload), key, when)
                if isinstance(got, bytes):
                    return signed.sealed(got, key, when)
                return got if key is None else _signed_stream(got, tsig.StreamSigner(key))

            return Later(transfer)
        answer = self.responder.answer(msg, question, peer.tcp, reserve)
        return signed.sealed(answer, key, now)

    def _update(
        self, update: message.UpdateMessage, peer: Peer, request: signed.Request | None = None
    ) -> bytes | Commit | None:
        """An UPDATE: its TSIG checked here unless ``request`` (the dnspython parse)
        already has, then the door's checks, up to the ChangeSet."""
        payload = self.responder.payload
        if request is not None:
            key, now = request.signed, request.now
        else:
            now = int(time.time())
            key = None
            if update.tsig is not None and update.tsig_owner is not None:
                checked = signed.verify(
                    update.data,
                    update.tsig_owner,
                    update.tsig,
                    self.keyring,
                    peer.address,
                    now,
                    lambda rcode: update.reply(rcode, payload),
                )
                if isinstance(checked, bytes):
                    return checked
                key = checked
        identity = key.identity if key is not None else None
        remember: Callable[[bytes], bytes] = _same
        if key is not None:
            key_name, mac = key.key.name, key.mac
            seen = self.replays.claim(key_name, mac, key.time_signed, now)
            if seen is not True:
                security(
                    "tsig-replay",
                    f"UPDATE signed with key {key_name}: a repeat of a message already"
                    " received; not applied again",
                    client=peer.address,
                )
                return seen or None

            def remember(reply: bytes) -> bytes:
                self.replays.answered(key_name, mac, reply)
                return reply

        try:
            changeset = self.updates.prepare(update, identity, peer.address)
        except UpdateError as exc:
            rcode = self.updates.refused(exc, identity, peer.address)
            return remember(signed.sealed(update.reply(rcode, payload), key, now))

        def reply(outcomes: list[Outcome] | None, error: BaseException | None) -> bytes:
            rcode = self.updates.conclude(changeset, outcomes, error)
            return remember(signed.sealed(update.reply(rcode, payload), key, int(time.time())))

        return Commit(changeset, reply)

    def _udp_limit(self, msg: dns.message.Message) -> int:
        if msg.edns < 0:
            return PLAIN_UDP_LIMIT
        return max(PLAIN_UDP_LIMIT, min(msg.payload, self.responder.payload))


def _rcode_text(rcode: int) -> str:
    return dns.rcode.to_text(dns.rcode.Rcode.make(rcode))


def _same(reply: bytes) -> bytes:
    return reply


def answer_in_thread(
    answerer: AsyncAnswerer,
    data: bytes,
    peer: Peer,
    send: Callable[[bytes], object],
    loop: asyncio.AbstractEventLoop,
) -> None:
    """Answer a handed-off UDP message from the listener's own thread.

    An UPDATE's commit goes to the engine's writer thread, which sends the
    reply (``send`` must be safe to call from there); only work that needs
    the event loop (a zone transfer over UDP) is passed to ``loop``.
    """
    inflight = answerer.inflight
    if not inflight.enter(peer.address):
        return
    try:
        step = answerer.first(data, peer)
    except Exception:
        inflight.leave(peer.address)
        log.exception("error answering a message from %s; dropped", peer.address)
        return
    if step is None or isinstance(step, bytes):
        inflight.leave(peer.address)
        if step is not None:
            _send(send, step, peer)
        return
    if isinstance(step, Commit):
        commit = step

        def done(outcomes: list[Outcome] | None, error: BaseException | None) -> None:
            inflight.leave(peer.address)
            try:
                reply = commit.reply(outcomes, error)
            except Exception:
                log.exception("error answering a message from %s; dropped", peer.address)
                return
            _send(send, reply, peer)

        answerer.engine.submit(commit.changeset, done)
        return
    later = step

    async def run() -> None:
        try:
            reply = await later.run()
        except Exception:
            log.exception("error answering a message from %s; dropped", peer.address)
            return
        finally:
            inflight.leave(peer.address)
        if isinstance(reply, bytes):
            _send(send, reply, peer)
        elif reply is not None:  # a stream cannot go over UDP; the transfer door never makes one
            await reply.aclose()  # type: ignore[attr-defined]

    work = run()
    try:
        asyncio.run_coroutine_threadsafe(work, loop)
    except RuntimeError:  # the loop has stopped: dynzone is shutting down
        work.close()
        inflight.leave(peer.address)


async def _signed_stream(
    stream: AsyncIterator[bytes], signer: tsig.StreamSigner
) -> AsyncIterator[bytes]:
    async for wire in stream:
        yield signer.sign(wire, int(time.time()))


def _send(send: Callable[[bytes], object], reply: bytes, peer: Peer) -> None:
    try:
        send(reply)
    except OSError as exc:
        log.debug("reply to %s not sent: %s", peer.address, exc)


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
    if not answerer.inflight.enter(peer.address):
        return
    try:
        await _answer_later(answerer, data, peer, send, drain)
    finally:
        answerer.inflight.leave(peer.address)


async def _answer_later(
    answerer: AsyncAnswerer,
    data: bytes,
    peer: Peer,
    send: Callable[[bytes], bool | None],
    drain: Callable[[], Awaitable[None]] | None,
) -> None:
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
