"""Counts of queries and responses, kept cheaply by the listeners for /metrics.

Each listener thread adds to a dict of its own (no lock on the query path);
a scrape adds the dicts up. A query is counted by transport, type, the zone
it falls in and the rcode of its reply (or ``dropped`` when RRL withheld
it). The zone of a name is looked up once and remembered, so repeated names
cost a dict lookup; the memory is bounded and forgotten when the zones change.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import dns.rcode
import dns.rdatatype

Key = tuple[bool, int, str, int]  # tcp, qtype, zone, rcode (-1: no reply)
_MAX_NAMES = 50_000


class QueryStats:
    """Counts of answered queries; ``zone_of`` maps a lower-case wire name to its zone."""

    def __init__(self, zone_of: Callable[[bytes], str]) -> None:
        self.zone_of = zone_of
        self._local = threading.local()
        self._all: list[Counter[Key]] = []
        self._zones: dict[bytes, str] = {}
        self._lock = threading.Lock()

    def forget_zones(self) -> None:
        """The zones served changed: names must be looked up again."""
        self._zones = {}

    def _counts(self) -> Counter[Key]:
        counts: Counter[Key] | None = getattr(self._local, "counts", None)
        if counts is None:
            counts = self._local.counts = Counter()
            with self._lock:
                self._all.append(counts)
        return counts

    def count(self, tcp: bool, query: bytes, reply: bytes | None) -> None:
        """One query and what was sent back (None: nothing)."""
        end = len(query)
        i = 12
        while i < end and query[i]:
            i += query[i] + 1
        if i + 2 >= end:
            return  # no readable question: not a query to count
        name = query[12 : i + 1].lower()
        zones = self._zones
        zone = zones.get(name)
        if zone is None:
            if len(zones) >= _MAX_NAMES:
                zones.clear()
            zone = zones[name] = self.zone_of(name)
        rcode = -1 if reply is None or len(reply) < 4 else reply[3] & 0x0F
        counts = self._counts()
        key = (tcp, query[i + 1] << 8 | query[i + 2], zone, rcode)
        counts[key] = counts.get(key, 0) + 1

    def totals(self) -> Counter[Key]:
        out: Counter[Key] = Counter()
        with self._lock:
            every = list(self._all)
        for counts in every:
            for _ in range(5):  # the listener may add a key while we copy
                try:
                    out.update(dict(counts))
                    break
                except RuntimeError:
                    continue
        return out


def type_label(qtype: int) -> str:
    try:
        return dns.rdatatype.to_text(dns.rdatatype.RdataType.make(qtype))
    except ValueError:
        return f"TYPE{qtype}"


def rcode_label(rcode: int) -> str:
    if rcode < 0:
        return "dropped"
    return dns.rcode.to_text(dns.rcode.Rcode.make(rcode))
