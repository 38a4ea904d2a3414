"""UDP and TCP listeners feeding one Responder.

UDP is served by a batching thread (udp_batch.py) where the system has
recvmmsg/sendmmsg, and on the asyncio loop otherwise. TCP runs on the loop and
follows RFC 7766: two-byte length framing, several queries per connection
answered in order as they arrive (pipelining), and limits a client cannot
talk its way around:

* ``tcp_idle_timeout`` is a deadline for a whole message, counted from the
  connection's start or its last answer, not re-armed by each byte: a client
  dripping a byte a second is cut off like an idle one;
* at most ``tcp_max_connections`` open, and ``tcp_max_connections_per_address``
  from one address; when the server is full, the connection idle longest is
  closed to make room (RFC 7766 §6.2.3), and only if every one is busy is the
  newcomer refused.

A query that makes the responder fail is logged and dropped; the listener
keeps serving.

Messages the responder hands off (UPDATE, NOTIFY, TSIG, zone transfers) are
answered by an ``AsyncAnswerer`` task on the loop; a TCP connection reads no
further message until that reply is written, so replies keep their order. A
zone transfer's messages are written as the client reads them: the task
waits while the connection's write buffer is above its high-water mark.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections import Counter
from collections.abc import Callable
from typing import cast

from dynzone.dns import udp_batch
from dynzone.dns.handoff import AsyncAnswerer, Peer, answer_later
from dynzone.dns.query_beat import BEAT
from dynzone.dns.responder import HANDOFF, Responder
from dynzone.engine.settings import HostPort
from dynzone.logs import security

log = logging.getLogger("dynzone.dns")

# Stop reading from a TCP client that does not read its answers.
_TCP_HIGH_WATER = 256 * 1024
# A deeper UDP receive queue absorbs bursts instead of dropping them; the
# kernel caps the request at net.core.rmem_max.
_UDP_RCVBUF = 4 * 1024 * 1024


# Tasks of handed-off messages, kept referenced until they finish.
_TASKS: set[asyncio.Future[None]] = set()


def _keep(task: asyncio.Future[None]) -> None:
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


class UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, responder: Responder, answerer: AsyncAnswerer | None) -> None:
        self.responder = responder
        self.answerer = answerer
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        BEAT.count += 1
        stats = self.responder.stats
        tally = stats.tally(False) if stats is not None else None
        try:
            reply = self.responder.respond(data, False, packed(addr[0]), tally)
        except Exception:
            log.exception("error answering a UDP query from %s; dropped", addr[0])
            return
        if stats is not None and tally is not None:
            stats.fold_if_full(tally)
        if reply is HANDOFF:
            if self.answerer is not None and self.transport is not None:
                transport = self.transport
                _keep(
                    asyncio.ensure_future(
                        answer_later(
                            self.answerer,
                            data,
                            Peer(addr[0], addr[1], False),
                            lambda r: transport.sendto(r, addr),
                        )
                    )
                )
        elif reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors for earlier replies (client gone); nothing to do.
        pass


class TcpLimits:
    """Shared state of all TCP connections of one server, and what they were refused."""

    def __init__(
        self, idle_timeout: float, max_connections: int, per_address: int | None = None
    ) -> None:
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.per_address = per_address or max_connections
        # Open connections, least recently active first.
        self.conns: dict[TcpProtocol, None] = {}
        self.by_address: Counter[str] = Counter()
        self.refused = 0  # over a cap, nothing idle to close
        self.evicted = 0  # idle, closed to make room
        self.timed_out = 0  # no whole message within the deadline

    @property
    def open(self) -> int:
        return len(self.conns)

    def admit(self, conn: TcpProtocol, address: str) -> bool:
        """Count ``conn`` in, closing the longest-idle connection if that makes room."""
        if self.by_address[address] >= self.per_address:
            if not self._evict(lambda c: c.address == address):
                return False
        elif len(self.conns) >= self.max_connections and not self._evict(lambda c: True):
            return False
        self.conns[conn] = None
        self.by_address[address] += 1
        return True

    def _evict(self, which: Callable[[TcpProtocol], bool]) -> bool:
        for conn in self.conns:
            if which(conn) and conn.idle():
                self.evicted += 1
                self.gone(conn)  # its slot is free now, not when the close completes
                conn.close()
                return True
        self.refused += 1
        return False

    def active(self, conn: TcpProtocol) -> None:
        if conn in self.conns:
            del self.conns[conn]
            self.conns[conn] = None

    def gone(self, conn: TcpProtocol) -> None:
        if conn in self.conns:
            del self.conns[conn]
            self.by_address[conn.address] -= 1
            if not self.by_address[conn.address]:
                del self.by_address[conn.address]


class TcpProtocol(asyncio.Protocol):
    def __init__(
        self, responder: Responder, limits: TcpLimits, answerer: AsyncAnswerer | None = None
    ) -> None:
        self.responder = responder
        self.limits = limits
        self.answerer = answerer
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.address = ""
        self.client = b""
        self.waiting = False  # a handed-off message's reply is not written yet
        self.writable: asyncio.Event | None = None  # clear while the write buffer is full

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses; same interface.
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self.address = peer[0] if peer else ""
        self.client = packed(self.address)
        if not self.limits.admit(self, self.address):
            security("tcp-refused", "too many TCP connections, none idle", client=self.address)
            transport.close()
            return
        self.transport.set_write_buffer_limits(high=_TCP_HIGH_WATER)
        self.writable = asyncio.Event()
        self.writable.set()
        self._arm()

    def _arm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(self.limits.idle_timeout, self._idle)

    def _idle(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            if self.buffer:
                self.limits.timed_out += 1
            self.transport.close()

    def idle(self) -> bool:
        """Between messages: nothing half-read, nothing being answered."""
        return not self.buffer and not self.waiting

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        # No re-arming here: the deadline covers a whole message, however
        # slowly its bytes come.
        self.buffer += data
        if not self.waiting:
            self._drain()

    def _drain(self) -> None:
        """Answer every whole message in the buffer, stopping at a handed-off one."""
        buf = self.buffer
        transport = self.transport
        assert transport is not None
        while len(buf) >= 2 and not transport.is_closing():
            size = (buf[0] << 8) | buf[1]
            if len(buf) < 2 + size:
                break
            msg = bytes(buf[2 : 2 + size])
            del buf[: 2 + size]
            BEAT.count += 1
            stats = self.responder.stats
            tally = stats.tally(True) if stats is not None else None
            try:
                reply = self.responder.respond(msg, True, self.client, tally)
            except Exception:
                log.exception("error answering a TCP query; connection closed")
                transport.close()
                return
            if stats is not None and tally is not None:
                stats.fold_if_full(tally)
            if reply is HANDOFF:
                if self.answerer is None:
                    continue
                self.waiting = True
                transport.pause_reading()
                peer = transport.get_extra_info("peername") or ("", 0)
                task = asyncio.ensure_future(
                    answer_later(
                        self.answerer,
                        msg,
                        Peer(peer[0], peer[1], True),
                        self._write,
                        self._until_writable,
                    )
                )
                task.add_done_callback(self._resume)
                _keep(task)
                return
            if reply is not None:
                transport.write(len(reply).to_bytes(2, "big") + reply)
                # Answered: the next message gets a fresh deadline (junk that
                # gets no answer does not keep a connection alive).
                self._arm()
                self.limits.active(self)

    def _write(self, reply: bytes) -> bool:
        """Write one framed reply; False if the connection is gone."""
        if self.transport is None or self.transport.is_closing():
            return False
        self.transport.write(len(reply).to_bytes(2, "big") + reply)
        self._arm()  # a long transfer is not idle
        return True

    async def _until_writable(self) -> None:
        if self.writable is not None:
            await self.writable.wait()

    def _resume(self, _: asyncio.Future[None]) -> None:
        self.waiting = False
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.resume_reading()
        self._drain()
        self._arm()

    def pause_writing(self) -> None:
        if self.writable is not None:
            self.writable.clear()
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.writable is not None:
            self.writable.set()
        if self.transport is not None and not self.transport.is_closing() and not self.waiting:
            self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.writable is not None:
            self.writable.set()  # a transfer waiting to write finds the connection gone
        if self.timer is not None:
            self.timer.cancel()
        self.limits.gone(self)


def packed(address: str) -> bytes:
    """The packed form of an IPv4 or IPv6 address text (an IPv4-mapped one as IPv4)."""
    try:
        if ":" in address:
            raw = socket.inet_pton(socket.AF_INET6, address.partition("%")[0])
            return raw[12:] if raw[:12] == _V4_MAPPED else raw
        return socket.inet_pton(socket.AF_INET, address)
    except OSError:
        return b""


_V4_MAPPED = bytes(10) + b"\xff\xff"


def _grow_receive_buffer(sock: socket.socket | None) -> None:
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _UDP_RCVBUF)
    except OSError as exc:
        log.debug("could not enlarge the UDP receive buffer: %s", exc)


async def _open_udp(
    loop: asyncio.AbstractEventLoop,
    addr: HostPort,
    family: int,
    responder: Responder,
    answerer: AsyncAnswerer | None,
) -> Callable[[], None]:
    """Bind UDP: a batching thread where the system allows, else the event loop."""
    if udp_batch.available():
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((addr.host, addr.port))
        except OSError as exc:
            sock.close()
            raise ListenError(_bind_failure(addr, "UDP", exc)) from None
        _grow_receive_buffer(sock)
        listener = udp_batch.BatchUdpListener(sock, responder, answerer, loop)
        listener.start()
        return listener.stop
    try:
        udp, _ = await loop.create_datagram_endpoint(
            lambda: UdpProtocol(responder, answerer),
            local_addr=(addr.host, addr.port),
            family=family,
        )
    except OSError as exc:
        raise ListenError(_bind_failure(addr, "UDP", exc)) from None
    _grow_receive_buffer(udp.get_extra_info("socket"))
    return udp.close


def _bind_failure(addr: HostPort, proto: str, exc: OSError) -> str:
    """Why binding failed, with what the user can do about it."""
    hint = {
        errno.EADDRINUSE: "another program (another DNS server?) is using it",
        errno.EADDRNOTAVAIL: "this machine has no such address",
        errno.EACCES: "ports below 1024 need root or CAP_NET_BIND_SERVICE",
    }.get(exc.errno or 0, "")
    reason = f"{exc.strerror}: {hint}" if hint else str(exc.strerror)
    return f"cannot listen on {addr} ({proto}): {reason}"


class ListenError(Exception):
    """An address we were told to listen on cannot be bound."""


async def open_listeners(
    addresses: tuple[HostPort, ...],
    responder: Responder,
    limits: TcpLimits,
    answerer: AsyncAnswerer | None = None,
) -> list[Callable[[], None]]:
    """Bind UDP and TCP on every address; return the callables that close them."""
    loop = asyncio.get_running_loop()
    closers: list[Callable[[], None]] = []
    try:
        for addr in addresses:
            family = socket.AF_INET6 if ":" in addr.host else socket.AF_INET
            closers.append(await _open_udp(loop, addr, family, responder, answerer))
            try:
                tcp = await loop.create_server(
                    lambda: TcpProtocol(responder, limits, answerer),
                    addr.host,
                    addr.port,
                    family=family,
                    reuse_address=True,
                    backlog=1024,
                )
            except OSError as exc:
                raise ListenError(_bind_failure(addr, "TCP", exc)) from None
            closers.append(tcp.close)
    except ListenError:
        for close in closers:
            close()
        raise
    return closers
