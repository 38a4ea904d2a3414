"""The set of zones served right now, and the answer cache that goes with it.

A catalog is immutable: reloading builds a new one (reusing unchanged
snapshots) and the server swaps one reference. The fast-path answer cache lives
on the catalog, so a swap also retires every cached answer at once; answers can
cross zones (CNAME chains), so per-zone invalidation would not be enough.
"""

from __future__ import annotations

from collections.abc import Iterable

from dynzone.zones.snapshot import ZoneSnapshot, parent_key

# A pre-rendered answer: header flag bytes 2 and 3, the counts (QD, AN, NS,
# AR), the body after the question, and the whole reply's length.
CachedAnswer = tuple[int, int, bytes, bytes, int]

# Bound on cached pre-rendered answers; random-name floods must not grow memory
# without limit. When full, the cache starts over.
CACHE_LIMIT = 250_000


class Catalog:
    """Zones by origin; the most specific zone answers a name."""

    __slots__ = ("cache", "exact", "max_depth", "shapes", "zones")

    def __init__(self, zones: Iterable[ZoneSnapshot] = ()) -> None:
        self.zones: dict[bytes, ZoneSnapshot] = {z.key: z for z in zones}
        self.max_depth = max((len(k) for k in self.zones), default=0)
        # Pre-rendered answers by canonical question (lower-cased name, type,
        # class, EDNS variant) ...
        self.cache: dict[bytes, CachedAnswer] = {}
        # ... and whole UDP replies (less the ID) by the exact query bytes after
        # the ID, so a repeated query is one dictionary lookup.
        self.exact: dict[bytes, bytes] = {}
        # ... and NXDOMAIN/wildcard answer bodies shared by names of one length,
        # each with the names its answer mentions (see responder._shape).
        self.shapes: dict[tuple[bytes, bytes, int, bytes], tuple[CachedAnswer, frozenset[bytes]]]
        self.shapes = {}

    def find_zone(self, key: bytes) -> ZoneSnapshot | None:
        """The served zone closest to the name with ``key`` (longest origin), if any."""
        zones = self.zones
        i = 0
        # Skip labels that make the name longer than any origin we serve.
        while len(key) - i > self.max_depth:
            i += key[i] + 1
        while True:
            zone = zones.get(key[i:] if i else key)
            if zone is not None:
                return zone
            if key[i] == 0:
                return None
            i += key[i] + 1

    def parent_zone(self, zone: ZoneSnapshot) -> ZoneSnapshot | None:
        """The served zone that contains ``zone``'s apex from above, if any."""
        if zone.key == b"\x00":
            return None
        return self.find_zone(parent_key(zone.key))
