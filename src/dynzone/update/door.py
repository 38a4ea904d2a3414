"""The RFC 2136 door: from a parsed (and TSIG-checked) UPDATE to an rcode.

Order of work, each step answering with its own rcode:

1. the zone section names a zone we serve, at its apex (else NOTAUTH);
2. the caller may update it: a TSIG key with a grant in the zone, or an
   unsigned request from a network in the zone's ``allow_update`` (else
   REFUSED);
3. the sections are well formed and inside the zone (FORMERR, NOTZONE);
4. every change names a name and type the caller's grants cover (REFUSED);
5. one ChangeSet, committed in one transaction: prerequisites (NXDOMAIN,
   YXDOMAIN, NXRRSET, YXRRSET), the changes in order, and a last check of
   what they actually removed and added (REFUSED, for deletions of whole
   names). All of it commits with one serial bump and one journal entry
   naming the key, or none of it does.
"""

from __future__ import annotations

import ipaddress
import logging
import sqlite3
from collections.abc import Awaitable, Callable

import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from dynzone.changes import ChangeRejected, ChangeSet, Outcome, ZoneChange, ZoneEdit
from dynzone.config import ZoneConfig
from dynzone.policy import Grant, Identity, update_defaults
from dynzone.store.sqlite import StoreError
from dynzone.update.apply import apply_changes
from dynzone.update.prerequisites import check_prerequisites
from dynzone.update.sections import (
    Action,
    Change,
    UpdateError,
    check_ttls,
    read_changes,
    read_prerequisites,
)
from dynzone.zones.catalog import Catalog
from dynzone.zones.snapshot import key_of
from dynzone.zones.zonefile import Record

log = logging.getLogger("dynzone.update")

Commit = Callable[[ChangeSet], Awaitable[list[Outcome]]]


class UpdateDoor:
    """Answers UPDATE messages for the zones in the current catalog."""

    def __init__(
        self,
        catalog: Callable[[], Catalog],
        settings: Callable[[dns.name.Name], ZoneConfig | None],
        commit: Commit,
    ) -> None:
        self.catalog = catalog
        self.settings = settings
        self.commit = commit

    async def handle(
        self, wire: bytes, msg: dns.message.Message, identity: Identity | None, address: str
    ) -> int:
        """Apply ``msg`` (signed by ``identity``, or unsigned if None); return the rcode.

        ``wire`` is the message as received, ``msg`` as dnspython parsed it.
        """
        try:
            outcome = await self._handle(wire, msg, identity, address)
        except UpdateError as exc:
            who = identity.name if identity is not None else f"unsigned from {address}"
            log.info("UPDATE by %s: %s: %s", who, _rcode_text(exc.rcode), exc)
            return exc.rcode
        if outcome is not None and outcome.changed:
            log.info(
                "UPDATE %s: serial %d -> %d (%d removed, %d added)",
                outcome.zone,
                outcome.serial_from,
                outcome.serial_to,
                len(outcome.removed) - 1,
                len(outcome.added) - 1,
            )
        return dns.rcode.NOERROR

    async def _handle(
        self, wire: bytes, msg: dns.message.Message, identity: Identity | None, address: str
    ) -> Outcome | None:
        question = msg.sections[0]
        if len(question) != 1 or question[0].rdtype != dns.rdatatype.SOA:
            raise UpdateError(dns.rcode.FORMERR, "the zone section must hold one SOA question")
        origin = question[0].name
        catalog = self.catalog()
        zone = catalog.find_zone(key_of(origin))
        if question[0].rdclass != dns.rdataclass.IN or zone is None or zone.origin != origin:
            raise UpdateError(dns.rcode.NOTAUTH, f"{origin} is not a zone served here")
        if identity is None:
            identity = self._unsigned(origin, address)
        if not any(_reaches(g, origin) for g in identity.grants):
            raise UpdateError(dns.rcode.REFUSED, f"{identity.name} has no grant in {origin}")

        def in_zone(name: dns.name.Name) -> bool:
            found = catalog.find_zone(key_of(name))
            if found is None:
                return False
            if found.origin == origin:
                return True
            # The apex of a child zone we also serve is the parent's delegation
            # point: its NS (and DS) records there belong to the parent.
            parent = catalog.parent_zone(found)
            return name == found.origin and parent is not None and parent.origin == origin

        check_ttls(wire)
        prerequisites = read_prerequisites(msg, in_zone)
        changes = read_changes(msg, in_zone)
        for c in changes:
            _authorise(identity, origin, c)

        def edit(view: ZoneEdit) -> None:
            check_prerequisites(view, prerequisites)
            apply_changes(view, changes)

        def vet(removed: list[Record], added: list[Record]) -> None:
            for r in (*removed, *added):
                if not identity.may(r.name, r.rdata.rdtype, update_defaults(r.name == origin)):
                    raise UpdateError(
                        dns.rcode.REFUSED,
                        f"{identity.name} may not change {r.name} {r.rdata.rdtype.name}",
                    )

        changeset = ChangeSet(identity.name, address, (ZoneChange(origin, (), edit=edit, vet=vet),))
        try:
            outcomes = await self.commit(changeset)
        except ChangeRejected as exc:
            raise UpdateError(dns.rcode.REFUSED, str(exc)) from None
        except (StoreError, sqlite3.Error) as exc:
            log.error("UPDATE to %s not committed: %s", origin, exc)
            raise UpdateError(dns.rcode.SERVFAIL, "the store could not commit") from None
        return outcomes[0] if outcomes else None

    def _unsigned(self, origin: dns.name.Name, address: str) -> Identity:
        """The identity of an unsigned UPDATE, if the zone lets its network update."""
        settings = self.settings(origin)
        networks = settings.allow_update if settings is not None else ()
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            ip = None
        if ip is None or not any(ip in net for net in networks):
            raise UpdateError(
                dns.rcode.REFUSED,
                f"unsigned UPDATE to {origin}; sign it with a key (dynzone key add)"
                " or list the network in the zone's allow_update",
            )
        apex = origin.to_text().lower()
        return Identity(f"address:{address}", (Grant(apex), Grant("*." + apex)))


def _reaches(grant: Grant, origin: dns.name.Name) -> bool:
    """Whether ``grant`` covers any name in the zone ``origin``."""
    if grant.pattern.startswith("regex:"):
        return True
    name = dns.name.from_text(grant.pattern.removeprefix("*."))
    return name.is_subdomain(origin) or (
        grant.pattern.startswith("*.") and origin.is_subdomain(name)
    )


def _authorise(identity: Identity, origin: dns.name.Name, c: Change) -> None:
    """Refuse a change the identity's grants do not cover, before any data is read."""
    if c.action is Action.DELETE_NAME:
        ok = any(g.covers_name(c.name) for g in identity.grants)
    else:
        ok = identity.may(c.name, c.rdtype, update_defaults(c.name == origin))
    if not ok:
        raise UpdateError(
            dns.rcode.REFUSED,
            f"{identity.name} may not change {c.name} {_type_text(c.rdtype)}",
        )


def _rcode_text(rcode: int) -> str:
    return dns.rcode.to_text(dns.rcode.Rcode.make(rcode))


def _type_text(rdtype: int) -> str:
    return dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))
