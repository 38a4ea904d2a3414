"""Check an UPDATE's prerequisites against the zone (RFC 2136 §3.2).

Runs inside the commit's transaction, against the same data the update is
then applied to, so no other change can slip in between check and update.
"""

from __future__ import annotations

import dns.rcode

from dynzone.engine.changeset import ZoneEdit
from dynzone.update.sections import Need, Prerequisite, UpdateError

# The rcode of each unmet prerequisite (§3.2.1-3.2.5).
_FAILS = {
    Need.NAME_IN_USE: dns.rcode.NXDOMAIN,
    Need.RRSET_EXISTS: dns.rcode.NXRRSET,
    Need.NAME_NOT_IN_USE: dns.rcode.YXDOMAIN,
    Need.RRSET_ABSENT: dns.rcode.YXRRSET,
    Need.RRSET_EQUALS: dns.rcode.NXRRSET,
}


def check_prerequisites(zone: ZoneEdit, prerequisites: list[Prerequisite]) -> None:
    """Raise UpdateError with the RFC's rcode for the first unmet prerequisite."""
    for p in prerequisites:
        if not _met(zone, p):
            raise UpdateError(_FAILS[p.need], f"prerequisite not met: {p.name} {p.need.value}")


def _met(zone: ZoneEdit, p: Prerequisite) -> bool:
    if p.need is Need.NAME_IN_USE:
        return bool(zone.types_at(p.name))
    if p.need is Need.NAME_NOT_IN_USE:
        return not zone.types_at(p.name)
    if p.need is Need.RRSET_EXISTS:
        return bool(zone.rdatas(p.name, p.rdtype))
    if p.need is Need.RRSET_ABSENT:
        return not zone.rdatas(p.name, p.rdtype)
    return set(zone.rdatas(p.name, p.rdtype)) == p.rdatas
