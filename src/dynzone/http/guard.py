"""What keeps the HTTP listener up under abuse: connection caps and deadlines.

* at most ``max_connections`` open connections, and ``max_connections_per_address``
  from one address (not counting ``trusted_proxies``: behind a TLS proxy every
  connection comes from it); a connection over either cap is closed at once;
* a request's headers must arrive within ``header_timeout`` seconds of the
  connection opening (aiohttp's keep-alive timer, set to the same value,
  covers the wait between requests), and a body within as long again:
  a client sending a byte a second cannot hold a connection;
* aiohttp's complaints about malformed requests become one short line,
  rate-limited, instead of a traceback a stranger can make us write.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from dynzone.engine.access import in_networks
from dynzone.engine.settings import Network
from dynzone.logs import security


class ConnectionGuard:
    """Counts HTTP connections and enforces the caps and the header deadline."""

    def __init__(
        self,
        max_connections: int,
        per_address: int,
        header_timeout: float,
        trusted: Callable[[], Sequence[Network]] = tuple,
    ) -> None:
        self.trusted = trusted
        self.max_connections = max_connections
        self.per_address = per_address
        self.header_timeout = header_timeout
        self.open = 0
        self.by_address: Counter[str] = Counter()
        self.refused = 0
        self.timed_out = 0
        # aiohttp's handler of each connection -> its header deadline
        self.timers: dict[object, asyncio.TimerHandle] = {}

    def wrap(self, factory: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """A protocol factory like ``factory`` whose connections are guarded."""
        return lambda: _Guarded(self, factory())

    def is_proxy(self, address: str) -> bool:
        return in_networks(address, self.trusted())

    def _late(self, transport: asyncio.BaseTransport) -> None:
        self.timed_out += 1
        peer = transport.get_extra_info("peername")
        security(
            "http-timeout",
            f"no complete request headers within {self.header_timeout:g} s; closed",
            client=peer[0] if peer else "",
        )
        transport.close()

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Headers are in: stop the header deadline; give the body one of its own."""
        timer = self.timers.pop(request.protocol, None)
        if timer is not None:
            timer.cancel()
        if request.body_exists:
            try:
                async with asyncio.timeout(self.header_timeout):
                    await request.read()
            except TimeoutError:
                return web.Response(text="request body too slow\n", status=408)
        try:
            return await handler(request)
        except UnicodeDecodeError as exc:
            # A form or parameter that is not UTF-8: the client's input, not our fault.
            security("http-bad-request", f"not UTF-8: {exc.reason}", client=request.remote or "")
            return web.Response(text="badrequest: the request is not UTF-8\n", status=400)


class _Guarded(asyncio.Protocol):
    """aiohttp's protocol for one connection, counted and given a header deadline."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self.guard = guard
        self.inner = inner
        self.address: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        guard = self.guard
        self.inner.connection_made(transport)
        peer = transport.get_extra_info("peername")
        address = peer[0] if peer else ""
        if guard.open >= guard.max_connections or (
            guard.by_address[address] >= guard.per_address and not guard.is_proxy(address)
        ):
            guard.refused += 1
            security("http-connection-refused", "too many connections", client=address)
            transport.close()
            return
        guard.open += 1
        guard.by_address[address] += 1
        self.address = address
        loop = asyncio.get_running_loop()
        guard.timers[self.inner] = loop.call_later(guard.header_timeout, guard._late, transport)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        guard = self.guard
        timer = guard.timers.pop(self.inner, None)
        if timer is not None:
            timer.cancel()
        if self.address is not None:
            guard.open -= 1
            guard.by_address[self.address] -= 1
            if not guard.by_address[self.address]:
                del guard.by_address[self.address]
            self.address = None
        self.inner.connection_lost(exc)


class QuietServerLog(logging.Filter):
    """aiohttp's request-handling errors as one short, rate-limited line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and not isinstance(exc, HttpProcessingError):
            return True  # a fault of ours: keep the traceback
        reason = f"{type(exc).__name__}: {exc}" if exc is not None else record.getMessage()
        security("http-bad-request", reason.splitlines()[0][:200] if reason else "malformed")
        return False


def quiet_server_logger() -> logging.Logger:
    """The logger to give aiohttp's request handler."""
    logger = logging.getLogger("dynzone.http.server")
    if not any(isinstance(f, QuietServerLog) for f in logger.filters):
        logger.addFilter(QuietServerLog())
    return logger
