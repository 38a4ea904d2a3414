"""A PowerDNS-compatible zones API, for the clients that already speak it.

``/api`` and ``/api/v1/servers/localhost/zones...``: list the zones, show one
with its RRsets, change RRsets with ``PATCH`` (REPLACE, DELETE, EXTEND,
PRUNE), ask for NOTIFY, export the zone file. The ``X-API-Key`` is a dynzone
token (tokens.py): a token sees the zones its grants reach (a token without
grants reads every zone), and a ``PATCH`` is checked RRset by RRset against
the same grants as users and TSIG keys before anything is written: one RRset
outside them and nothing changes (403). Every ``PATCH`` is one ChangeSet and
one journal entry, by ``token:NAME``; with ``?wait=secondaries`` the reply
waits until every secondary serves the new serial (504 with the propagation
report after ``?timeout=``). Zones are not created or removed here
(they come from the configuration). Errors are ``{"error": "..."}`` with
PowerDNS's status codes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
from aiohttp import web

from dynzone import __version__
from dynzone.engine.access import Door, may_change, may_read
from dynzone.engine.changeset import (
    AddRecord,
    ChangeRejected,
    ChangeSet,
    DeleteRecord,
    DeleteRRset,
    Op,
    SetRRset,
    ZoneChange,
)
from dynzone.engine.engine import Engine
from dynzone.engine.settings import HostPort
from dynzone.http.auth import Authenticator
from dynzone.http.clientaddr import Address
from dynzone.http.ratelimit import RateLimit
from dynzone.policy import Identity
from dynzone.store.base import StoreError
from dynzone.tokens import Refused, check_key
from dynzone.xfr import propagation
from dynzone.zones.export import zone_text
from dynzone.zones.serial import serial_gt
from dynzone.zones.snapshot import ZoneSnapshot

log = logging.getLogger("dynzone")

SERVER = "localhost"
ZONES = f"/api/v1/servers/{SERVER}/zones"
_CHANGES = ("REPLACE", "DELETE", "EXTEND", "PRUNE")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class ApiError(Exception):
    """A request that cannot be done: its status and message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def zone_summary(snapshot: ZoneSnapshot) -> dict[str, Any]:
    name = snapshot.origin.to_text()
    return {
        "id": name,
        "name": name,
        "kind": "Master",
        "serial": snapshot.serial,
        "notified_serial": snapshot.serial,
        "url": f"{ZONES}/{name}",
        "dnssec": False,
        "account": "",
        "masters": [],
    }


def zone_detail(snapshot: ZoneSnapshot) -> dict[str, Any]:
    rrsets = sorted(snapshot.rrsets(), key=lambda rr: (rr.name, rr.rdtype))
    return {
        **zone_summary(snapshot),
        "rrsets": [
            {
                "name": rr.name.to_text(),
                "type": dns.rdatatype.to_text(rr.rdtype),
                "ttl": rr.ttl,
                "records": [{"content": rd.to_text(), "disabled": False} for rd in rr],
                "comments": [],
            }
            for rr in rrsets
        ],
    }


def plan_patch(body: object, zone: dns.name.Name, identity: Identity) -> tuple[Op, ...]:
    """The operations of a PATCH body, every RRset checked against the token's
    grants first; raises ApiError (nothing to write) for anything wrong."""
    if not isinstance(body, dict) or not isinstance(body.get("rrsets"), list):
        raise ApiError(400, 'the body must be JSON: {"rrsets": [...]}')
    ops: list[Op] = []
    for number, rrset in enumerate(body["rrsets"], 1):
        if not isinstance(rrset, dict):
            raise ApiError(422, f"rrset {number} is not an object")
        name, rdtype = _name_and_type(rrset, zone, number)
        change = str(rrset.get("changetype", "")).upper()
        if change not in _CHANGES:
            raise ApiError(422, f"rrset {number}: changetype must be one of {', '.join(_CHANGES)}")
        if rdtype == dns.rdatatype.SOA:
            raise ApiError(422, f"rrset {number}: dynzone keeps the SOA itself")
        if not may_change(identity, Door.ZONES_API, name, rdtype, at_apex=name == zone):
            raise ApiError(
                403,
                f"{identity.name} may not change {name} {dns.rdatatype.to_text(rdtype)}",
            )
        if change == "DELETE":
            ops.append(DeleteRRset(name, rdtype))
            continue
        rdatas = _records(rrset, rdtype, number)
        if change == "PRUNE":
            ops += [DeleteRecord(name, rd) for rd in rdatas]
            continue
        ttl = rrset.get("ttl")
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 <= ttl < 2**31:
            raise ApiError(422, f"rrset {number}: ttl must be a number of seconds")
        if change == "EXTEND":
            ops += [AddRecord(name, ttl, rd) for rd in rdatas]
        elif rdatas:
            ops.append(SetRRset(name, rdtype, ttl, tuple(rdatas)))
        else:
            ops.append(DeleteRRset(name, rdtype))
    if not ops:
        raise ApiError(422, "no rrsets to change")
    return tuple(ops)


def _name_and_type(
    rrset: dict[str, Any], zone: dns.name.Name, number: int
) -> tuple[dns.name.Name, dns.rdatatype.RdataType]:
    text = rrset.get("name")
    if not isinstance(text, str) or not text.endswith("."):
        raise ApiError(422, f"rrset {number}: name must be absolute (end with a dot)")
    try:
        name = dns.name.from_text(text)
        rdtype = dns.rdatatype.from_text(str(rrset.get("type", "")))
    except (dns.exception.DNSException, ValueError) as exc:
        raise ApiError(422, f"rrset {number}: {exc}") from None
    if not name.is_subdomain(zone):
        raise ApiError(422, f"rrset {number}: {text} is not in zone {zone}")
    if dns.rdatatype.is_metatype(rdtype):
        raise ApiError(422, f"rrset {number}: {rrset.get('type')} is not a record type")
    return name, rdtype


def _records(
    rrset: dict[str, Any], rdtype: dns.rdatatype.RdataType, number: int
) -> list[dns.rdata.Rdata]:
    records = rrset.get("records", [])
    if not isinstance(records, list):
        raise ApiError(422, f"rrset {number}: records must be a list")
    out = []
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("content"), str):
            raise ApiError(422, f"rrset {number}: each record needs a content string")
        if record.get("disabled"):
            raise ApiError(422, f"rrset {number}: dynzone keeps no disabled records")
        try:
            out.append(
                # Names in content are absolute, as PowerDNS wants them.
                dns.rdata.from_text(
                    dns.rdataclass.IN,
                    rdtype,
                    record["content"],
                    origin=dns.name.root,
                    relativize=False,
                )
            )
        except (dns.exception.DNSException, ValueError) as exc:
            raise ApiError(422, f"rrset {number}: {record['content']!r}: {exc}") from None
    return out


class ZonesApi:
    """The handlers, and what they share: the limit on wrong keys."""

    def __init__(
        self,
        engine: Engine,
        client: Callable[[web.Request], Address],
        auth: Authenticator,
        failed_per_minute: int,
    ) -> None:
        self.engine = engine
        self.client = client
        self.auth = auth  # its read thread looks tokens up
        self.failed = RateLimit(failed_per_minute)

    async def identity(self, request: web.Request) -> Identity:
        """The token's identity, or ApiError 401."""
        client = self.client(request)
        key = request.headers.get("X-API-Key", "")
        if not key:
            raise ApiError(401, "an X-API-Key header with a dynzone token is needed")
        where = str(client)
        if not self.failed.allowed(where):
            raise ApiError(429, "too many wrong keys from this address; try again later")
        found = await self.auth.read(lambda store: check_key(store, key, client))
        if isinstance(found, Refused):
            self.failed.spend(where)
            log.warning("http api: key refused from %s: %s", where, found.reason)
            raise ApiError(401, "Unauthorized")
        return found

    def _zone(self, request: web.Request, identity: Identity) -> ZoneSnapshot:
        text = request.match_info["zone"]
        try:
            origin = dns.name.from_text(text)
        except dns.exception.DNSException:
            raise ApiError(404, f"Could not find domain '{text}'") from None
        snapshot = self.engine.snapshot(origin)
        if snapshot is None or not may_read(identity, origin):
            raise ApiError(404, f"Could not find domain '{origin}'")
        return snapshot

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Every route: authenticate, then do what the route says."""
        try:
            identity = await self.identity(request)
            route = request.match_info.route.name
            if route == "versions":
                return web.json_response([{"url": "/api/v1", "version": 1}])
            if route == "servers":
                return web.json_response([_server()])
            if route == "server":
                if request.match_info["server"] != SERVER:
                    raise ApiError(404, "Not Found")
                return web.json_response(_server())
            if route == "zones":
                zones = [
                    zone_summary(s)
                    for s in self.engine.catalog.zones.values()
                    if may_read(identity, s.origin)
                ]
                return web.json_response(sorted(zones, key=lambda z: z["name"]))
            snapshot = self._zone(request, identity)
            loop = asyncio.get_running_loop()
            if route == "zone":
                # A big zone is seconds of work: off the event loop.
                body = await loop.run_in_executor(None, _zone_json, snapshot)
                return web.Response(text=body, content_type="application/json")
            if route == "patch":
                return await self._patch(request, identity, snapshot)
            if route == "notify":
                # Every change is NOTIFYed already; this keeps clients that ask happy.
                return web.json_response({"result": "Notification queued"})
            if route == "export":
                text = await loop.run_in_executor(None, zone_text, snapshot)
                return web.Response(text=text, content_type="text/plain")
            raise ApiError(404, "Not Found")
        except ApiError as exc:
            return _error(exc.status, exc.message)

    async def _patch(
        self, request: web.Request, identity: Identity, snapshot: ZoneSnapshot
    ) -> web.Response:
        wait = _wait(request)
        try:
            body = json.loads(await request.text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(400, "the body is not JSON") from None
        ops = plan_patch(body, snapshot.origin, identity)
        client = str(self.client(request))
        changeset = ChangeSet(identity.name, client, (ZoneChange(snapshot.origin, ops),))
        try:
            outcomes = await self.engine.commit(changeset)
        except ChangeRejected as exc:
            raise ApiError(422, str(exc)) from None
        except StoreError as exc:
            log.error("http api: %s from %s: store failure, nothing changed: %s",
                      identity.name, client, exc)  # fmt: skip
            raise ApiError(500, "the store could not commit; nothing changed") from None
        except Exception:  # a fault of ours: say so, change nothing
            log.exception("http api: %s from %s: internal error, nothing changed",
                          identity.name, client)  # fmt: skip
            raise ApiError(500, "internal error; nothing changed") from None
        log.info("http api: %s from %s changed %d rrset(s) in %s", identity.name, client,
                 len(body["rrsets"]), snapshot.origin)  # fmt: skip
        if wait is not None and outcomes and outcomes[0].changed:
            settings = self.engine.zone_settings(snapshot.origin)
            targets = settings.notify if settings is not None else ()
            current, report = await until_secondaries(
                snapshot.origin, outcomes[0].serial_to, targets, wait
            )
            if not current:
                return web.json_response(
                    {
                        "error": f"changed (serial {outcomes[0].serial_to}), but not every"
                        f" secondary serves it within {wait:g} s",
                        "propagation": report,
                    },
                    status=504,
                )
        return web.Response(status=204)


WAIT_DEFAULT = 10.0  # seconds a PATCH with ?wait=secondaries waits, unless ?timeout= says
WAIT_LONGEST = 60.0


def _wait(request: web.Request) -> float | None:
    """``?wait=secondaries`` (with ``?timeout=SECONDS``): how long to wait; None: not."""
    wait = request.query.get("wait")
    if wait is None:
        return None
    if wait != "secondaries":
        raise ApiError(400, f"wait={wait!r}: the only thing to wait for is 'secondaries'")
    text = request.query.get("timeout", str(WAIT_DEFAULT))
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= WAIT_LONGEST:
        raise ApiError(400, f"timeout={text!r}: seconds, more than 0 and at most {WAIT_LONGEST:g}")
    return seconds


async def until_secondaries(
    zone: dns.name.Name, serial: int, targets: tuple[HostPort, ...], timeout: float
) -> tuple[bool, dict[str, Any]]:
    """Wait until every secondary in ``targets`` serves ``serial`` of ``zone`` or a
    later one (asking each for its SOA every tenth of a second), at most
    ``timeout`` seconds; whether they all do, and the propagation report."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        answers = await asyncio.gather(*(propagation.ask_serial(zone, t) for t in targets))
        if all(isinstance(a, int) and (a == serial or serial_gt(a, serial)) for a in answers):
            return True, await propagation.report(zone, serial, None, targets, {})
        if loop.time() >= deadline:
            return False, await propagation.report(zone, serial, None, targets, {})
        await asyncio.sleep(0.1)


def _zone_json(snapshot: ZoneSnapshot) -> str:
    return json.dumps(zone_detail(snapshot))


def _server() -> dict[str, Any]:
    return {
        "type": "Server",
        "id": SERVER,
        "daemon_type": "authoritative",
        # Clients read the API's level from the version ("4.9.0..."): this
        # is the PowerDNS API dynzone speaks, then which dynzone speaks it.
        "version": f"4.9.0-dynzone-{__version__}",
        "url": f"/api/v1/servers/{SERVER}",
        "zones_url": f"/api/v1/servers/{SERVER}/zones{{/zone}}",
    }


def add_routes(app: web.Application, api: ZonesApi) -> None:
    """The API's routes on ``app``."""
    app.router.add_route("GET", "/api", api.handle, name="versions")
    app.router.add_route("GET", "/api/v1/servers", api.handle, name="servers")
    app.router.add_route("GET", "/api/v1/servers/{server}", api.handle, name="server")
    app.router.add_route("GET", ZONES, api.handle, name="zones")
    app.router.add_route("GET", ZONES + "/{zone}", api.handle, name="zone")
    app.router.add_route("PATCH", ZONES + "/{zone}", api.handle, name="patch")
    app.router.add_route("PUT", ZONES + "/{zone}/notify", api.handle, name="notify")
    app.router.add_route("GET", ZONES + "/{zone}/export", api.handle, name="export")
