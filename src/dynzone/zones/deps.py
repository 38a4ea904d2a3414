"""Dependency tags: what a cached answer read, and what a commit changed.

A commit must retire exactly the cached answers it can change (and keep all
others hot). Both sides speak in tags, bytes built from name keys:

* ``node_tag(key)``: whether the node at ``key`` exists and which types it
  holds. Every node a lookup walks through (or finds missing) is read this
  way: a cut or DNAME appearing above a name, a name coming into existence
  or going away, a type added or removed, all change it.
* ``rrset_tag(key, rdtype)``: the records and TTL of one RRset an answer used.
* ``zone_tag(apex)``: everything all answers of a zone share (its apex's
  types, NS and SOA, a wildcard right below the apex, the addresses of its
  name servers). Rather than every answer registering those few tags, it
  registers this one, and a commit that changes any of them (``wide_tags``
  of the snapshot before or after) changes this one too.

The SOA serial is the exception: it changes at every commit, and every
negative answer carries it. Cached answers holding an SOA record are patched
with the current serial when served instead (``responder.py``), so a
serial-only change of the SOA retires none of them: it changes only
``serial_tag(apex)``, under which the whole replies with the old serial
written in are filed (``answer_cache.py``).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dynzone.zones.snapshot import ZoneSnapshot

# Keys start with a label length (0..63); these first bytes cannot.
_NODE = b"\x40"
_ZONE = b"\x41"
SERIAL_PREFIX = b"\x42"
_TYPE = struct.Struct("!H")


def node_tag(key: bytes) -> bytes:
    """The existence and type set of the node at ``key``."""
    return _NODE + key


def rrset_tag(key: bytes, rdtype: int) -> bytes:
    """The contents (records, TTL) of one RRset."""
    return key + _TYPE.pack(rdtype)


def zone_tag(apex: bytes) -> bytes:
    """What every answer of the zone at ``apex`` shares (see the module docstring)."""
    return _ZONE + apex


def serial_tag(apex: bytes) -> bytes:
    """The serial of the zone at ``apex``: it changes with every commit."""
    return SERIAL_PREFIX + apex


class Deps:
    """Collects the tags one answer read, and the zones it read them in."""

    __slots__ = ("tags", "zones")

    def __init__(self) -> None:
        self.tags: set[bytes] = set()
        self.zones: list[ZoneSnapshot] = []

    def zone(self, zone: ZoneSnapshot) -> None:
        """Note that the answer read ``zone``."""
        if zone not in self.zones:
            self.zones.append(zone)

    def finish(self) -> frozenset[bytes]:
        """The tags to register the answer under: each zone's shared tags folded into
        its ``zone_tag``, which every answer of a zone carries anyway."""
        tags = self.tags
        for zone in self.zones:
            tags = (tags - zone.wide_tags) | {zone_tag(zone.key)}
        return frozenset(tags)
