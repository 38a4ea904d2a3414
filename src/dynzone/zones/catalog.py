"""The set of zones served right now, and the answer cache that goes with it.

A catalog is immutable: reloading builds a new one (reusing unchanged
snapshots) and the server swaps one reference. The fast-path answer cache lives
on the catalog, so a swap also retires every cached answer at once; answers can
cross zones (CNAME chains), so per-zone invalidation would not be enough.
"""

from __future__ import annotations

from collections.abc import Iterable

import dns.name

from dynzone.zones.snapshot import ZoneSnapshot

# Bound on cached pre-rendered answers; random-name floods must not grow memory
# without limit. When full, the cache starts over.
CACHE_LIMIT = 250_000


class Catalog:
    """Zones by origin; the most specific zone answers a name."""

    __slots__ = ("cache", "exact", "max_depth", "zones")

    def __init__(self, zones: Iterable[ZoneSnapshot] = ()) -> None:
        self.zones: dict[dns.name.Name, ZoneSnapshot] = {z.origin: z for z in zones}
        self.max_depth = max((len(o) for o in self.zones), default=0)
        # Pre-rendered answers by canonical question (lower-cased name, type,
        # class, EDNS variant) ...
        self.cache: dict[bytes, object] = {}
        # ... and whole UDP replies (less the ID) by the exact query bytes after
        # the ID, so a repeated query is one dictionary lookup.
        self.exact: dict[bytes, bytes] = {}

    def find_zone(self, qname: dns.name.Name) -> ZoneSnapshot | None:
        """The served zone closest to ``qname`` (longest matching origin), if any."""
        name = qname
        zones = self.zones
        while len(name) > self.max_depth:
            name = name.parent()
        while True:
            zone = zones.get(name)
            if zone is not None:
                return zone
            if len(name) <= 1:
                return None
            name = name.parent()

    def parent_zone(self, zone: ZoneSnapshot) -> ZoneSnapshot | None:
        """The served zone that contains ``zone``'s apex from above, if any."""
        if zone.origin == dns.name.root:
            return None
        return self.find_zone(zone.origin.parent())

    def replaced(self, zone: ZoneSnapshot) -> Catalog:
        """A new catalog with ``zone`` added or replacing the one at its origin."""
        zones = dict(self.zones)
        zones[zone.origin] = zone
        return Catalog(zones.values())

    def __len__(self) -> int:
        return len(self.zones)
