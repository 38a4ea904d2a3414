"""The acme-dns API, for the ACME clients that already speak it.

``POST /register`` makes an account (closed unless the client is in
``[acme_dns] register_from``; an admin registers with ``dynzone acme-dns
register``); ``POST /update`` with ``X-Api-User``/``X-Api-Key`` and
``{"subdomain", "txt"}`` adds a TXT value at the account's name;
``DELETE /update`` with the same body removes it. Replies and errors are
acme-dns's, byte for byte where clients read them.

Beyond acme-dns: a name holds any number of values (up to ``MAX_VALUES``),
not the last two, so one account serves any number of certificates at
once; each value ends ``[acme_dns] txt_ttl`` after it was last set, deleted
by the sweeper (engine/expiry.py) unless deleted sooner. Every change is
one ChangeSet and one journal entry by ``acme:USERNAME``, served and
NOTIFYed like any other.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
from aiohttp import web

from dynzone import acme_accounts
from dynzone.engine.access import Door, may_change
from dynzone.engine.changeset import (
    AddRecord,
    ChangeRejected,
    ChangeSet,
    DeleteRecord,
    ZoneChange,
    ZoneEdit,
)
from dynzone.engine.engine import Engine
from dynzone.engine.expiry import Sweeper
from dynzone.http.auth import Authenticator
from dynzone.http.clientaddr import Address
from dynzone.http.ratelimit import RateLimit
from dynzone.http.settings import AcmeDnsSettings, HttpSettings
from dynzone.policy import Identity
from dynzone.store.base import StoreError, ZoneWrite
from dynzone.tokens import Refused, TokenError, parse_networks
from dynzone.zones.snapshot import key_of

log = logging.getLogger("dynzone")

MAX_VALUES = 256  # TXT values at one name: enough for a 100-name certificate, twice
REGISTRATIONS_PER_MINUTE = 10  # per client address, for networks allowed to register
_TXT = dns.rdatatype.TXT
# An ACME dns-01 value: the unpadded base64url SHA-256 digest (RFC 8555 8.4).
_VALUE = re.compile(r"[A-Za-z0-9_-]{43}\Z")


class TooManyValues(Exception):
    """A name would hold more than MAX_VALUES TXT values."""


class AcmeError(Exception):
    """A request that cannot be done: the status and acme-dns's error word."""

    def __init__(self, status: int, word: str) -> None:
        super().__init__(word)
        self.status = status
        self.word = word


def _error(exc: AcmeError) -> web.Response:
    return web.json_response({"error": exc.word}, status=exc.status)


def parse_allowfrom(body: object) -> tuple[str, ...]:
    """The networks a ``/register`` body asks for; AcmeError for a bad body."""
    if body is None:
        return ()
    if not isinstance(body, dict):
        raise AcmeError(400, "malformed_json_payload")
    allow = body.get("allowfrom", [])
    if allow is None:
        return ()
    if not isinstance(allow, list) or not all(isinstance(a, str) for a in allow):
        raise AcmeError(400, "invalid_allowfrom_cidr")
    return tuple(allow)


def parse_update(body: object) -> tuple[str, str]:
    """``(subdomain, txt)`` of an ``/update`` body; AcmeError for a bad one."""
    if not isinstance(body, dict):
        raise AcmeError(400, "malformed_json_payload")
    subdomain, txt = body.get("subdomain"), body.get("txt")
    if not isinstance(subdomain, str) or not acme_accounts.valid_subdomain(subdomain):
        raise AcmeError(400, "bad_subdomain")
    if not isinstance(txt, str) or not _VALUE.match(txt):
        raise AcmeError(400, "bad_txt")
    return subdomain, txt


def _json(body: bytes, empty: object = None) -> object:
    if not body.strip():
        return empty
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise AcmeError(400, "malformed_json_payload") from None


class AcmeDnsApi:
    """The handlers and what they share: limits, the auth thread, the sweeper."""

    def __init__(
        self,
        engine: Engine,
        settings: Callable[[], HttpSettings],
        client: Callable[[web.Request], Address],
        auth: Authenticator,
        sweeper: Sweeper,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.client = client
        self.auth = auth
        self.sweeper = sweeper
        self.failed = RateLimit(settings().failed_logins_per_minute)
        self.registrations = RateLimit(REGISTRATIONS_PER_MINUTE)

    def _acme(self) -> AcmeDnsSettings:
        acme = self.settings().acme_dns
        if acme is None:  # taken out of the config by a reload
            raise AcmeError(404, "not_found")
        return acme

    async def register(self, request: web.Request) -> web.Response:
        """``POST /register``: 201 with the new account, to allowed networks only."""
        try:
            acme = self._acme()
            client = self.client(request)
            if not any(client in net for net in acme.register_from):
                log.warning(
                    "acme-dns: registration from %s refused: not in acme_dns.register_from",
                    client,
                )
                raise AcmeError(401, "forbidden")
            if not self.registrations.spend(str(client)):
                raise AcmeError(429, "too_many_registrations")
            texts = parse_allowfrom(_json(await request.read()))
            try:
                allowfrom = parse_networks(list(texts))
            except TokenError:
                raise AcmeError(400, "invalid_allowfrom_cidr") from None
            try:
                reg = await self.auth.read(
                    lambda store: acme_accounts.register(store, acme.zone, allowfrom)
                )
            except StoreError as exc:
                log.error("acme-dns: registration from %s failed: %s", client, exc)
                raise AcmeError(500, "db_error") from None
            log.info("acme-dns: %s registered from %s for %s", reg.username, client,
                     reg.fulldomain)  # fmt: skip
            return web.json_response(reg.as_json(), status=201)
        except AcmeError as exc:
            return _error(exc)

    async def update(self, request: web.Request) -> web.Response:
        """``POST /update`` adds the value; ``DELETE /update`` removes it."""
        try:
            acme = self._acme()
            client = self.client(request)
            identity, name = await self._account(request, client)
            subdomain, txt = parse_update(_json(await request.read(), empty={}))
            if subdomain != acme_accounts.subdomain_of(name):
                log.warning("acme-dns: %s asked for subdomain %s, not its own",
                            identity.name, subdomain)  # fmt: skip
                raise AcmeError(401, "forbidden")
            zone = self.engine.catalog.find_zone(key_of(name))
            if zone is None or not may_change(identity, Door.ACME_DNS, name, _TXT):
                log.warning("acme-dns: %s may not change %s (no served zone holds it)",
                            identity.name, name)  # fmt: skip
                raise AcmeError(401, "forbidden")
            rdata = dns.rdata.from_text(dns.rdataclass.IN, _TXT, f'"{txt}"')
            add = request.method == "POST"
            await self._commit(identity.name, str(client), zone.origin, name, rdata, add, acme)
            return web.json_response({"txt": txt})
        except AcmeError as exc:
            return _error(exc)

    async def _account(
        self, request: web.Request, client: Address
    ) -> tuple[Identity, dns.name.Name]:
        """The caller's identity and TXT name, or AcmeError 401."""
        where = str(client)
        user = request.headers.get("X-Api-User", "")
        key = request.headers.get("X-Api-Key", "")
        if not self.failed.allowed(where):
            log.warning("acme-dns: too many wrong credentials from %s", where)
            raise AcmeError(401, "forbidden")
        found = await self.auth.read(lambda store: acme_accounts.check(store, user, key, client))
        if isinstance(found, Refused):
            self.failed.spend(where)
            log.warning("acme-dns: credentials refused from %s: %s", where, found.reason)
            raise AcmeError(401, "forbidden")
        return found

    async def _commit(
        self,
        identity: str,
        client: str,
        zone: dns.name.Name,
        name: dns.name.Name,
        rdata: dns.rdata.Rdata,
        add: bool,
        acme: AcmeDnsSettings,
    ) -> None:
        ttl = self.engine.dynamic_ttl(zone)

        def bounded(work: ZoneEdit) -> None:
            if len(work.rdatas(name, _TXT)) > MAX_VALUES:
                raise TooManyValues(f"{name} would hold more than {MAX_VALUES} TXT values")

        op = AddRecord(name, ttl, rdata) if add else DeleteRecord(name, rdata)
        try:
            # Held against the sweeper: a value renewed now must not be
            # deleted by a sweep that read its old end time.
            async with self.sweeper.lock:
                expires = self.sweeper.clock() + acme.txt_ttl

                def remember(write: ZoneWrite) -> None:
                    if add:
                        write.set_expiry(name, rdata, expires)
                    else:
                        write.clear_expiry(name, rdata)

                change = ZoneChange(zone, (op,), after=remember, edit=bounded if add else None)
                await self.engine.commit(ChangeSet(identity, client, (change,)))
        except TooManyValues as exc:
            log.warning("acme-dns: %s from %s refused: %s", identity, client, exc)
            raise AcmeError(400, "too_many_txt_values") from None
        except ChangeRejected as exc:  # e.g. the name has become a CNAME
            log.warning("acme-dns: %s from %s refused: %s", identity, client, exc)
            raise AcmeError(400, "bad_txt") from None
        except Exception as exc:  # noqa: BLE001 - a store fault or ours: nothing changed
            log.error("acme-dns: %s from %s: nothing changed: %s", identity, client, exc)
            raise AcmeError(500, "db_error") from None
        log.info("acme-dns: %s from %s %s a TXT value at %s", identity, client,
                 "set" if add else "deleted", name)  # fmt: skip


def add_routes(app: web.Application, api: AcmeDnsApi) -> None:
    """acme-dns's routes on ``app`` (``GET /health`` is served for every API)."""
    app.router.add_route("POST", "/register", api.register)
    app.router.add_route("POST", "/update", api.update)
    app.router.add_route("DELETE", "/update", api.update)
