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

import logging

import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from dynzone.engine import access
from dynzone.engine.access import Door
from dynzone.engine.changeset import ChangeRejected, ChangeSet, Outcome, ZoneChange, ZoneEdit
from dynzone.engine.engine import Engine
from dynzone.logs import security
from dynzone.metrics import UPDATES
from dynzone.policy import Identity
from dynzone.store.base import StoreError
from dynzone.update.apply import apply_changes
from dynzone.update.message import UpdateMessage
from dynzone.update.prerequisites import check_prerequisites
from dynzone.update.sections import (
    Action,
    Change,
    UpdateError,
    check_sent_ttls,
    check_ttls,
    read_changes,
    read_prerequisites,
    type_text,
)
from dynzone.zones.snapshot import key_of
from dynzone.zones.zonefile import Record

log = logging.getLogger("dynzone.update")
_NOERROR = UPDATES.labels("rfc2136", "NOERROR")


class UpdateDoor:
    """UPDATE messages to the zones the engine serves: ``prepare`` makes the ChangeSet,
    ``conclude`` the rcode of its commit (which ``dns/handoff.py`` runs)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def prepare(self, update: UpdateMessage, identity: Identity | None, address: str) -> ChangeSet:
        """Steps 1 to 4, and the ChangeSet of step 5; raises UpdateError with the rcode.

        Synchronous, so that a UDP listener can run it in its own thread and
        hand the ChangeSet straight to the engine's writer (``Engine.submit``).
        """
        question = update.zone
        if len(question) != 1 or question[0][1] != dns.rdatatype.SOA:
            raise UpdateError(dns.rcode.FORMERR, "the zone section must hold one SOA question")
        asked, _, zone_class = question[0]
        engine = self.engine
        origin_key = key_of(asked)
        served = engine.zone_origin(origin_key)
        settings = engine.zone_settings(served) if served is not None else None
        if (
            zone_class != dns.rdataclass.IN
            or served is None
            or key_of(served) != origin_key
            or settings is None
        ):
            raise UpdateError(dns.rcode.NOTAUTH, f"{asked} is not a zone served here")
        # From here on the served zone's own name object: comparisons and
        # lookups by it find the engine's entries by identity, at no cost.
        origin = served
        if identity is None:
            identity = access.unsigned_update_identity(settings, address)
            if identity is None:
                raise UpdateError(
                    dns.rcode.REFUSED,
                    f"unsigned UPDATE to {origin}; sign it with a key (dynzone key add)"
                    " or list the network in the zone's allow_update",
                )
        if not access.reaches(identity, origin):
            raise UpdateError(dns.rcode.REFUSED, f"{identity.name} has no grant in {origin}")
        who = identity

        def in_zone(name: dns.name.Name) -> bool:
            key = key_of(name)
            found = engine.zone_origin(key)
            if found is None:
                return False
            if found is origin or key_of(found) == origin_key:
                return True
            # The apex of a child zone we also serve is the parent's delegation
            # point: its NS (and DS) records there belong to the parent.
            parent = engine.parent_origin(found) if key == key_of(found) else None
            return parent is not None and key_of(parent) == origin_key

        if update.exact_ttls:
            check_sent_ttls(update.prerequisites, update.updates)
        else:
            check_ttls(update.data)
        prerequisites = read_prerequisites(update.prerequisites, in_zone)
        changes = read_changes(update.updates, in_zone)
        for c in changes:
            _authorise(who, origin_key, c)

        def edit(view: ZoneEdit) -> None:
            check_prerequisites(view, prerequisites)
            apply_changes(view, changes)

        def vet(removed: list[Record], added: list[Record]) -> None:
            for r in (*removed, *added):
                if not access.may_change(
                    who, Door.RFC2136, r.name, r.rdata.rdtype, key_of(r.name) == origin_key
                ):
                    raise UpdateError(
                        dns.rcode.REFUSED,
                        f"{who.name} may not change {r.name} {r.rdata.rdtype.name}",
                    )

        # Every change but "delete all RRsets at a name" acts on the very name
        # and type _authorise just allowed, so the difference it makes holds
        # nothing vet would refuse; only that one reaches types unnamed.
        reaches_unnamed = any(c.action is Action.DELETE_NAME for c in changes)
        zone_change = ZoneChange(origin, (), edit=edit, vet=vet if reaches_unnamed else None)
        return ChangeSet(identity.name, address, (zone_change,))

    def conclude(
        self,
        changeset: ChangeSet,
        outcomes: list[Outcome] | None,
        error: BaseException | None,
    ) -> int:
        """The rcode for a committed ChangeSet (``outcomes``), or for why it was not
        (``error``, from inside the commit); logs either way."""
        if error is not None:
            if isinstance(error, UpdateError):
                exc = error
            elif isinstance(error, ChangeRejected):
                exc = UpdateError(dns.rcode.REFUSED, str(error))
            elif isinstance(error, StoreError):
                log.error("UPDATE to %s not committed: %s", changeset.zones[0].zone, error)
                exc = UpdateError(dns.rcode.SERVFAIL, "the store could not commit")
            else:
                log.error(
                    "UPDATE to %s failed; nothing changed",
                    changeset.zones[0].zone,
                    exc_info=(type(error), error, error.__traceback__),
                )
                exc = UpdateError(dns.rcode.SERVFAIL, "internal error")
            log.info("UPDATE by %s: %s: %s", changeset.identity, _rcode_text(exc.rcode), exc)
            UPDATES.labels("rfc2136", _rcode_text(exc.rcode)).inc()
            return exc.rcode
        outcome = outcomes[0] if outcomes else None
        if outcome is not None and outcome.changed and log.isEnabledFor(logging.DEBUG):
            # The engine logs each batch of commits; this is the detail.
            log.debug(
                "UPDATE %s: serial %d -> %d (%d removed, %d added)",
                outcome.zone,
                outcome.serial_from,
                outcome.serial_to,
                len(outcome.removed) - 1,
                len(outcome.added) - 1,
            )
        _NOERROR.inc()
        return dns.rcode.NOERROR

    def refused(self, error: UpdateError, identity: Identity | None, address: str) -> int:
        """Log an UPDATE refused before any commit; its rcode."""
        who = identity.name if identity is not None else f"unsigned from {address}"
        if error.rcode in (dns.rcode.REFUSED, dns.rcode.NOTAUTH):
            security(
                "update-refused",
                f"UPDATE by {who}: {_rcode_text(error.rcode)}: {error}",
                client=address,
            )
        else:
            log.info("UPDATE by %s: %s: %s", who, _rcode_text(error.rcode), error)
        UPDATES.labels("rfc2136", _rcode_text(error.rcode)).inc()
        return error.rcode


def _authorise(identity: Identity, origin_key: bytes, c: Change) -> None:
    """Refuse a change the identity's grants do not cover, before any data is read."""
    if c.action is Action.DELETE_NAME:
        ok = access.may_delete_name(identity, c.name)
    else:
        at_apex = key_of(c.name) == origin_key
        ok = access.may_change(identity, Door.RFC2136, c.name, c.rdtype, at_apex)
    if not ok:
        raise UpdateError(
            dns.rcode.REFUSED,
            f"{identity.name} may not change {c.name} {type_text(c.rdtype)}",
        )


def _rcode_text(rcode: int) -> str:
    return dns.rcode.to_text(dns.rcode.Rcode.make(rcode))
