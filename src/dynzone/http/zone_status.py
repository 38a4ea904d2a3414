"""``GET /api/zones/{zone}/status``: the propagation report as JSON.

The same report as ``dynzone zone status``: each secondary is asked for its
SOA at the time of the request. Only a user with a grant in the zone may read
it (HTTP basic authentication, as for /nic/update): it names the secondaries
and makes dynzone query them.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from typing import TYPE_CHECKING

import dns.exception
import dns.name
from aiohttp import web

from dynzone.engine import access
from dynzone.engine.engine import Engine
from dynzone.xfr import propagation
from dynzone.xfr.propagation import Tracker

if TYPE_CHECKING:
    from dynzone.http.app import Dyndns2Door


async def zone_status(
    engine: Engine, tracker: Tracker, pool: Executor, door: Dyndns2Door, request: web.Request
) -> web.Response:
    auth = await door.authenticate(request, door.client(request))
    if isinstance(auth, str):
        status = 401 if auth == "badauth" else 429
        return web.json_response(
            {"error": "log in as a dynzone user (HTTP basic authentication)"},
            status=status,
            headers={"WWW-Authenticate": door.realm} if status == 401 else None,
        )
    try:
        origin = dns.name.from_text(request.match_info["zone"])
    except dns.exception.DNSException:
        return web.json_response({"error": "not a domain name"}, status=400)
    zone = engine.snapshot(origin)
    zc = engine.zone_settings(origin)
    if zone is None or zc is None or not access.reaches(auth, origin):
        # The same answer for "not served" and "not yours": no zone list for strangers.
        return web.json_response({"error": f"zone {origin} is not served here"}, status=404)
    loop = asyncio.get_running_loop()
    latest = await loop.run_in_executor(pool, engine.journal.latest, origin)
    seen = tracker.seen.get(origin.to_text(), {})
    recorded = {target: vars(s) for target, s in seen.items()}
    report = await propagation.report(
        origin, zone.serial, latest.time if latest else None, zc.notify, recorded
    )
    return web.json_response(report)
