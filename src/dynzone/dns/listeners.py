"""UDP and TCP listeners feeding one Responder.

UDP is served by a batching thread (udp_batch.py) where the system has
recvmmsg/sendmmsg, and on the asyncio loop otherwise. TCP runs on the loop and
follows RFC 7766: two-byte length framing, several queries per connection
answered in order as they arrive (pipelining), an idle timeout, and a cap on
open connections. A query that makes the responder fail is logged and
dropped; the listener keeps serving.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable
from typing import cast

from dynzone.config import ListenAddress
from dynzone.dns import udp_batch
from dynzone.dns.responder import Responder

log = logging.getLogger("dynzone.dns")

# Stop reading from a TCP client that does not read its answers.
_TCP_HIGH_WATER = 256 * 1024
# A deeper UDP receive queue absorbs bursts instead of dropping them; the
# kernel caps the request at net.core.rmem_max.
_UDP_RCVBUF = 4 * 1024 * 1024


class UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            reply = self.responder.respond(data, False)
        except Exception:
            log.exception("error answering a UDP query from %s; dropped", addr[0])
            return
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors for earlier replies (client gone); nothing to do.
        pass


class TcpLimits:
    """Shared state of all TCP connections of one server."""

    def __init__(self, idle_timeout: float, max_connections: int) -> None:
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.open = 0


class TcpProtocol(asyncio.Protocol):
    def __init__(self, responder: Responder, limits: TcpLimits) -> None:
        self.responder = responder
        self.limits = limits
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses; same interface.
        self.transport = cast(asyncio.Transport, transport)
        if self.limits.open >= self.limits.max_connections:
            transport.close()
            return
        self.limits.open += 1
        self.counted = True
        self.transport.set_write_buffer_limits(high=_TCP_HIGH_WATER)
        self._arm()

    def _arm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(self.limits.idle_timeout, self._idle)

    def _idle(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        transport = self.transport
        assert transport is not None
        while len(buf) >= 2:
            size = (buf[0] << 8) | buf[1]
            if len(buf) < 2 + size:
                break
            msg = bytes(buf[2 : 2 + size])
            del buf[: 2 + size]
            try:
                reply = self.responder.respond(msg, True)
            except Exception:
                log.exception("error answering a TCP query; connection closed")
                transport.close()
                return
            if reply is not None:
                transport.write(len(reply).to_bytes(2, "big") + reply)
        self._arm()

    def pause_writing(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.counted:
            self.limits.open -= 1
            self.counted = False


def _grow_receive_buffer(sock: socket.socket | None) -> None:
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _UDP_RCVBUF)
    except OSError as exc:
        log.debug("could not enlarge the UDP receive buffer: %s", exc)


async def _open_udp(
    loop: asyncio.AbstractEventLoop, addr: ListenAddress, family: int, responder: Responder
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
        listener = udp_batch.BatchUdpListener(sock, responder)
        listener.start()
        return listener.stop
    try:
        udp, _ = await loop.create_datagram_endpoint(
            lambda: UdpProtocol(responder), local_addr=(addr.host, addr.port), family=family
        )
    except OSError as exc:
        raise ListenError(_bind_failure(addr, "UDP", exc)) from None
    _grow_receive_buffer(udp.get_extra_info("socket"))
    return udp.close


def _bind_failure(addr: ListenAddress, proto: str, exc: OSError) -> str:
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
    addresses: tuple[ListenAddress, ...],
    responder: Responder,
    limits: TcpLimits,
) -> list[Callable[[], None]]:
    """Bind UDP and TCP on every address; return the callables that close them."""
    loop = asyncio.get_running_loop()
    closers: list[Callable[[], None]] = []
    try:
        for addr in addresses:
            family = socket.AF_INET6 if ":" in addr.host else socket.AF_INET
            closers.append(await _open_udp(loop, addr, family, responder))
            try:
                tcp = await loop.create_server(
                    lambda: TcpProtocol(responder, limits),
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
