"""The set of zones served right now, and the answer cache that goes with it.

A catalog is immutable: a commit makes the next one (the changed zones'
next snapshots, the same answer cache) and the engine swaps one reference.
The cache outlives the swap: the commit retires only the answers it can
change (answer_cache.py). When the set of zones itself changes (a reload),
the next catalog starts with an empty cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dynzone.engine.answer_cache import AnswerCache
from dynzone.zones.snapshot import ZoneSnapshot, parent_key


class Catalog:
    """Zones by origin key; the most specific zone answers a name.

    ``cache``, ``exact`` and ``shapes`` are the answer cache's dictionaries,
    reachable in one step from the query path.
    """

    __slots__ = ("answers", "cache", "exact", "max_depth", "shapes", "zones")

    def __init__(
        self, zones: Iterable[ZoneSnapshot] = (), answers: AnswerCache | None = None
    ) -> None:
        self.zones: dict[bytes, ZoneSnapshot] = {z.key: z for z in zones}
        self.max_depth = max((len(k) for k in self.zones), default=0)
        if answers is None:
            answers = AnswerCache()
            answers.current = self
        self.answers = answers
        self.cache = answers.entries
        self.exact = answers.exact
        self.shapes = answers.shapes

    def evolve(self, changed: Mapping[bytes, ZoneSnapshot]) -> Catalog:
        """The next catalog: the same zones (and cache) with some snapshots replaced."""
        zones = dict(self.zones)
        zones.update(changed)
        return Catalog(zones.values(), self.answers)

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
