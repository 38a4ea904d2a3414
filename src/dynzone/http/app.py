"""The HTTP server, in the same event loop as the DNS listeners (aiohttp).

Password checks (http/auth.py: argon2 only where a person chose the
password, and then remembered) run in small thread pools with their own read
connections to the store, so they never hold up the loop or the writer.
Updates go through ``Engine.commit``, which returns only once the change is
durable and the new answer is being served.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from aiohttp import web

from dynzone.dns.listeners import ListenError
from dynzone.engine.changeset import ChangeRejected
from dynzone.engine.engine import Engine
from dynzone.engine.expiry import Sweeper
from dynzone.http import acme_dns, dyndns2, openapi
from dynzone.http.auth import Authenticator
from dynzone.http.clientaddr import Address, client_address
from dynzone.http.guard import ConnectionGuard, quiet_server_logger
from dynzone.http.health import health, metrics
from dynzone.http.pdns_api import ZonesApi, add_routes
from dynzone.http.ratelimit import RateLimit
from dynzone.http.settings import HttpSettings
from dynzone.http.zone_status import zone_status
from dynzone.metrics import UPDATES
from dynzone.policy import Identity
from dynzone.xfr.propagation import Tracker

log = logging.getLogger("dynzone")

REALM = 'Basic realm="dynzone", charset="UTF-8"'


def _text(body: str, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=body, status=status, headers=headers, content_type="text/plain")


class Dyndns2Door:
    """The dyndns2 handlers and the state they share (limits, auth threads)."""

    def __init__(self, engine: Engine, settings: Callable[[], HttpSettings]) -> None:
        self.engine = engine
        self.settings = settings  # the current [http] settings (a reload replaces them)
        settings_now = settings()
        self.host_limit = RateLimit(settings_now.updates_per_host_per_minute)
        self.auth = Authenticator(engine.open_reader, settings_now.failed_logins_per_minute)

    realm = REALM

    def close(self) -> None:
        self.auth.close()

    def client(self, request: web.Request) -> Address:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        host = peer[0] if peer else "127.0.0.1"
        return client_address(host, request.headers, self.settings().trusted_proxies)

    async def authenticate(self, request: web.Request, client: Address) -> Identity | str:
        """The caller's identity, or the reply word for why not (http/auth.py)."""
        return await self.auth.check(request.headers.get("Authorization", ""), str(client))

    async def update(self, request: web.Request) -> web.Response:
        """``/nic/update``, its reply words counted for /metrics."""
        response = await self._update(request)
        for line in (response.text or "").splitlines():
            word = line.split(" ", 1)[0]
            if word:
                UPDATES.labels("dyndns2", word).inc()
        return response

    async def _update(self, request: web.Request) -> web.Response:
        client = self.client(request)
        params: dict[str, str] = dict(request.query)
        if request.method == "POST":
            try:
                form = await request.post()
            except UnicodeDecodeError:
                raise  # the guard's "not UTF-8" reply
            except ValueError as exc:  # e.g. multipart/form-data without a boundary
                log.info("http: a form from %s cannot be read: %s", client, exc)
                return _text("badrequest: the form cannot be read\n", 400)
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        auth = await self.authenticate(request, client)
        if auth == "badauth":
            return _text("badauth\n", 401, {"WWW-Authenticate": REALM})
        if isinstance(auth, str):
            return _text(auth + "\n")
        identity = auth
        catalog = self.engine.catalog
        try:
            plan = dyndns2.plan_update(params, identity, catalog, client)
        except dyndns2.BadAddress as exc:
            log.info("http: %s from %s: bad address %r", identity.name, client, str(exc))
            return _text("badip\n", 400)
        if isinstance(plan, str):
            log.info("http: %s from %s: %s", identity.name, client, plan)
            return _text(plan + "\n")
        if not plan.refused:
            for i, name in enumerate(plan.names):
                if not self.host_limit.spend(name.to_text().lower()):
                    plan.lines[i] = "abuse"
        if plan.refused:
            if plan.suffix_refusal is not None:
                log.info("http: %s from %s: prefix update refused for %s", identity.name,
                         client, plan.suffix_refusal)  # fmt: skip
            lines = dyndns2.refusal_lines(plan)
            self._log(identity, client, plan, lines)
            return _text("\n".join(lines) + "\n")
        changeset = dyndns2.build_changeset(
            plan, catalog, self.engine.dynamic_ttl, identity, str(client)
        )
        try:
            outcomes = await self.engine.commit(changeset)
        except ChangeRejected as exc:
            log.warning("http: %s from %s: refused: %s", identity.name, client, exc)
            lines = dyndns2.rejected_lines(plan, exc.name)
        except Exception as exc:  # a fault of ours: say so, change nothing
            if dyndns2.is_store_failure(exc):
                log.error(
                    "http: %s from %s: store failure, nothing changed: %s",
                    identity.name,
                    client,
                    exc,
                )
                lines = ["dnserr"] * len(plan.names)
            else:
                log.exception(
                    "http: %s from %s: internal error, nothing changed", identity.name, client
                )
                lines = ["911"] * len(plan.names)
        else:
            lines = dyndns2.reply_lines(plan, outcomes)
        self._log(identity, client, plan, lines)
        return _text("\n".join(lines) + "\n")

    def _log(
        self, identity: Identity, client: Address, plan: dyndns2.Plan, lines: list[str]
    ) -> None:
        pairs = ", ".join(
            f"{n.to_text(omit_final_dot=True) or '?'}: {line}"
            for n, line in zip(plan.names, lines, strict=True)
        )
        if plan.suffixed:
            pairs += f"; prefix {plan.prefix}: " + ", ".join(
                f"{n.to_text(omit_final_dot=True)} {a}" for n, a in plan.suffixed.items()
            )
        log.info("http: update by %s from %s: %s", identity.name, client, pairs)

    async def checkip(self, request: web.Request) -> web.Response:
        addr = self.client(request)
        return web.Response(text=dyndns2.CHECKIP_PAGE.format(addr=addr), content_type="text/html")


async def _openapi(document: dict[str, object], request: web.Request) -> web.Response:
    return web.json_response(document)


@dataclass
class HttpListener:
    """A running HTTP listener: ``stop`` ends it; ``guard`` holds its connection counts."""

    stop: Callable[[], Awaitable[None]]
    guard: ConnectionGuard


async def start_http(
    engine: Engine, settings: Callable[[], HttpSettings], tracker: Tracker, pool: Executor
) -> HttpListener:
    """Listen on every ``http.listen`` address.

    ``settings`` gives the current ``[http]`` settings; ``tracker`` and ``pool``
    (the transfer thread) serve the zone status endpoint.
    """
    door = Dyndns2Door(engine, settings)
    now = settings()
    api = ZonesApi(engine, door.client, door.auth, now.failed_logins_per_minute)
    guard = ConnectionGuard(
        now.max_connections,
        now.max_connections_per_address,
        now.header_timeout,
        lambda: settings().trusted_proxies,
    )
    app = web.Application(client_max_size=64 * 1024, middlewares=[guard.middleware])
    app.router.add_route("GET", "/nic/update", door.update)
    app.router.add_route("POST", "/nic/update", door.update)
    app.router.add_route("GET", "/nic/checkip", door.checkip)
    app.router.add_route("GET", "/checkip", door.checkip)
    app.router.add_route(
        "GET",
        "/api/zones/{zone}/status",
        functools.partial(zone_status, engine, tracker, pool, door),
    )
    add_routes(app, api)
    # Records that end (acme-dns values) are swept whether or not acme-dns is
    # still configured: none is left behind by taking it out of the config.
    sweeper = Sweeper(engine.commit, door.auth.read)
    if now.acme_dns is not None:
        acme = acme_dns.AcmeDnsApi(engine, settings, door.client, door.auth, sweeper)
        acme_dns.add_routes(app, acme)
    app.router.add_route("GET", "/health", functools.partial(health, engine))
    app.router.add_route("GET", "/metrics", functools.partial(metrics, settings, door.client))
    document = openapi.description(acme_dns=now.acme_dns is not None)
    app.router.add_route("GET", openapi.PATH, functools.partial(_openapi, document))
    openapi.check_routes(app, document)
    runner = web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        keepalive_timeout=now.header_timeout,
        logger=quiet_server_logger(),
    )
    await runner.setup()
    assert runner.server is not None
    factory = guard.wrap(runner.server)
    loop = asyncio.get_running_loop()
    servers: list[asyncio.Server] = []
    sweeping = loop.create_task(sweeper.run(), name="expiry sweeper")

    async def stop() -> None:
        sweeping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeping
        for server in servers:
            server.close()
        await runner.cleanup()
        door.close()

    for addr in now.listen:
        try:
            servers.append(
                await loop.create_server(factory, addr.host, addr.port, reuse_address=True)
            )
        except OSError as exc:
            await stop()
            raise ListenError(f"cannot listen for HTTP on {addr}: {exc.strerror}") from None

    return HttpListener(stop, guard)
