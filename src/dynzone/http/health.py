"""``GET /health`` for load balancers, and ``GET /metrics`` for Prometheus.

``/health`` answers 200 while the server serves at least one zone (503
before that), with no credentials: it says nothing a query would not.
``/metrics`` is the Prometheus text exposition of ``dynzone.metrics``,
answered only to clients in ``http.metrics_from`` (loopback by default):
it names zones and secondaries.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from dynzone.engine.engine import Engine
from dynzone.http.clientaddr import Address
from dynzone.http.settings import HttpSettings
from dynzone.metrics import REGISTRY


async def health(engine: Engine, request: web.Request) -> web.Response:
    zones = len(engine.catalog.zones)
    status = 200 if zones else 503
    return web.json_response(
        {"status": "ok" if zones else "starting", "zones": zones}, status=status
    )


async def metrics(
    settings: Callable[[], HttpSettings],
    client: Callable[[web.Request], Address],
    request: web.Request,
) -> web.Response:
    if not any(client(request) in net for net in settings().metrics_from):
        return web.Response(
            text="metrics are served only to http.metrics_from\n",
            status=403,
            content_type="text/plain",
        )
    body = generate_latest(REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
