"""Who may do what: the one access module every door asks.

As Knot has one ``acl_allowed``, dynzone has these few functions; no door
decides access by itself. Two kinds of rule meet here:

* **grants** of an identity (an HTTP user, a TSIG key): which names and
  record types it may change (``policy.py`` holds the data);
* **per-zone lists** (``ZoneSettings``): networks whose unsigned UPDATEs are
  accepted (``allow_update``), keys and networks that may transfer the zone
  (``allow_transfer``), and the sources whose NOTIFY we acknowledge.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Container, Iterable

import dns.name
import dns.rdatatype

from dynzone.engine.settings import Network, ZoneSettings
from dynzone.policy import (
    ADDRESS_TYPES,
    REGEX_PREFIX,
    Grant,
    Identity,
    pattern_name,
    regex_parts,
    update_defaults,
)


class Action(enum.Enum):
    """What a request asks to do to a zone."""

    UPDATE = "update"  # change records (RFC 2136, HTTP)
    TRANSFER = "transfer"  # AXFR or IXFR
    NOTIFY = "notify"  # tell us the zone changed


class Door(enum.Enum):
    """Which door a change comes in by; each gives grants without types its own default."""

    DYNDNS2 = "dyndns2"  # A and AAAA only
    RFC2136 = "rfc2136"  # every type but SOA, apex NS and DNSSEC data
    ZONES_API = "zones-api"  # the PowerDNS-compatible API: as RFC 2136
    ACME_DNS = "acme-dns"  # TXT only


def in_networks(address: str, networks: Iterable[Network]) -> bool:
    """Whether the address text ``address`` is in any of ``networks`` (False if unreadable)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def allowed(action: Action, zone: ZoneSettings, address: str, key: str | None = None) -> bool:
    """Whether the zone's lists admit ``action`` from ``address``, signed with ``key``.

    ``key`` is the name of the TSIG key that signed the request (already
    checked), or None. For UPDATE this is the unsigned case only: a signed
    UPDATE is decided by its key's grants (``may_change``).
    """
    if action is Action.UPDATE:
        return in_networks(address, zone.allow_update)
    transfer = (key is not None and key in zone.transfer_keys) or in_networks(
        address, zone.transfer_networks
    )
    if action is Action.TRANSFER:
        return transfer
    # NOTIFY: dynzone is the primary; it only acknowledges sources it knows.
    return (
        transfer
        or any(t.host == address for t in zone.notify)
        or (key is not None and key == zone.notify_key)
    )


def unsigned_update_identity(zone: ZoneSettings, address: str) -> Identity | None:
    """Who an unsigned UPDATE acts as: the sender's address with rights on the whole
    zone, if the zone's ``allow_update`` lists its network; else None (refused)."""
    if not allowed(Action.UPDATE, zone, address):
        return None
    apex = zone.name.to_text().lower()
    return Identity(f"address:{address}", (Grant(apex), Grant("*." + apex)))


def reaches(identity: Identity, origin: dns.name.Name) -> bool:
    """Whether any of the identity's grants covers a name in the zone ``origin``."""
    for grant in identity.grants:
        if grant.pattern.startswith(REGEX_PREFIX):
            parts = regex_parts(grant.pattern)
            if parts is not None and (
                parts[0].is_subdomain(origin) or origin.is_subdomain(parts[0])
            ):
                return True
            continue
        name = pattern_name(grant.pattern)
        if name.is_subdomain(origin) or (
            grant.pattern.startswith("*.") and origin.is_subdomain(name)
        ):
            return True
    return False


def may_read(identity: Identity, origin: dns.name.Name) -> bool:
    """Whether an API token may read the zone ``origin``: its grants reach it,
    or it has none (a token without grants reads every zone, changing nothing)."""
    return not identity.grants or reaches(identity, origin)


_TXT_ONLY = frozenset({int(dns.rdatatype.TXT)})


def _defaults(door: Door, at_apex: bool) -> Container[int]:
    if door is Door.DYNDNS2:
        return ADDRESS_TYPES
    if door is Door.ACME_DNS:
        return _TXT_ONLY
    return update_defaults(at_apex)


def may_change(
    identity: Identity, door: Door, name: dns.name.Name, rdtype: int, at_apex: bool = False
) -> bool:
    """Whether ``identity`` may change ``rdtype`` records at ``name`` through ``door``."""
    return identity.may(name, rdtype, _defaults(door, at_apex))


def may_delete_name(identity: Identity, name: dns.name.Name) -> bool:
    """Whether ``identity`` may ask to delete every RRset at ``name`` (RFC 2136 §2.5.3);
    what that then removes is checked record by record with ``may_change``."""
    return any(g.covers_name(name) for g in identity.grants)
