"""Counts of queries and responses, for /metrics, at almost no cost to a query.

A query adds one to a dict entry keyed by its bytes after the ID: for an
answer from the whole-reply cache that is the very key the cache was just
asked with, so its hash is already known, and nothing is parsed. The rcode
of a key's answer is noted when the key is first counted, and again when
an answer is computed afresh (a commit retired the cached one); if it
changed, the key's count so far is set aside under the old rcode. Each
listener thread has a ``Tally`` of its own per transport: no lock on the
path of a cached answer. A scrape copies the tallies and only then works out
each distinct query's type and zone. Random names would make a tally grow
without end, so past ``FOLD_AT`` keys its thread folds it into totals.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import dns.rcode
import dns.rdatatype

Key = tuple[bool, int, str, int]  # tcp, qtype, zone, rcode
FOLD_AT = 100_000
_MAX_NAMES = 50_000


class Tally:
    """One thread's counts for one transport.

    ``counts`` and ``rcodes`` are keyed by a query's bytes after its ID;
    ``moved`` by those bytes plus an rcode byte (counts set aside when a key's
    rcode changed); ``folded`` holds totals by label. Only the owning thread
    writes; moves and folds happen under ``lock``, which a scrape also takes,
    so that it never sees a count in two places or in none.
    """

    __slots__ = ("counts", "folded", "lock", "moved", "rcodes", "tcp")

    def __init__(self, tcp: bool) -> None:
        self.tcp = tcp
        self.counts: dict[bytes, int] = {}
        self.rcodes: dict[bytes, int] = {}
        self.moved: dict[bytes, int] = {}
        self.folded: Counter[Key] = Counter()
        self.lock = threading.Lock()

    def first(self, key: bytes, rcode: int) -> None:
        """``key`` counted for the first time (its rcode before its count, for readers)."""
        self.rcodes[key] = rcode
        self.counts[key] = 1

    def note(self, key: bytes, rcode: int) -> None:
        """``key`` answered afresh with ``rcode``."""
        old = self.rcodes.get(key)
        if old is None:
            self.first(key, rcode)
        elif old == rcode:
            self.counts[key] = self.counts.get(key, 0) + 1
        else:
            with self.lock:
                aside = key + bytes((old,))
                self.moved[aside] = self.moved.get(aside, 0) + self.counts.get(key, 0)
                self.rcodes[key] = rcode
                self.counts[key] = 1

    def snapshot(self) -> tuple[dict[bytes, int], dict[bytes, int], dict[bytes, int], Counter[Key]]:
        with self.lock:
            # counts before rcodes: a key just counted has its rcode already.
            counts = self.counts.copy()
            return counts, self.rcodes.copy(), self.moved.copy(), self.folded.copy()


class QueryStats:
    """The tallies of every listener thread; ``zone_of`` maps a lower-case wire
    name to the name of the zone it falls in ("" for none)."""

    def __init__(self, zone_of: Callable[[bytes], str]) -> None:
        self.zone_of = zone_of
        self._local = threading.local()
        self._tallies: list[Tally] = []
        self._lock = threading.Lock()
        self._zones: dict[bytes, str] = {}

    def forget_zones(self) -> None:
        """The zones served changed: names must be looked up again."""
        self._zones = {}

    def tally(self, tcp: bool) -> Tally:
        """The calling thread's tally for the transport."""
        name = "tcp" if tcp else "udp"
        found: Tally | None = getattr(self._local, name, None)
        if found is None:
            found = Tally(tcp)
            setattr(self._local, name, found)
            with self._lock:
                self._tallies.append(found)
        return found

    def fold_if_full(self, tally: Tally) -> None:
        """(The tally's own thread.) Past FOLD_AT keys, turn them into totals by label."""
        if len(tally.counts) < FOLD_AT:
            return
        with tally.lock:
            merged = tally.folded.copy()
            self._add(merged, tally.tcp, tally.counts, tally.rcodes, tally.moved)
            tally.folded = merged
            tally.counts, tally.rcodes, tally.moved = {}, {}, {}

    def totals(self) -> Counter[Key]:
        """Every thread's counts by label, as of now (any thread)."""
        out: Counter[Key] = Counter()
        with self._lock:
            tallies = list(self._tallies)
        for tally in tallies:
            counts, rcodes, moved, folded = tally.snapshot()
            out.update(folded)
            self._add(out, tally.tcp, counts, rcodes, moved)
        return out

    def _add(
        self,
        out: Counter[Key],
        tcp: bool,
        counts: dict[bytes, int],
        rcodes: dict[bytes, int],
        moved: dict[bytes, int],
    ) -> None:
        for key, n in counts.items():
            self._one(out, tcp, key, rcodes.get(key, 0), n)
        for key, n in moved.items():
            self._one(out, tcp, key[:-1], key[-1], n)

    def _one(self, out: Counter[Key], tcp: bool, key: bytes, rcode: int, n: int) -> None:
        # The question starts 10 bytes into the message after its ID.
        end = len(key)
        i = 10
        while i < end and key[i]:
            i += key[i] + 1
        if i + 2 >= end:
            return  # no readable question
        name = key[10 : i + 1].lower()
        zones = self._zones
        zone = zones.get(name)
        if zone is None:
            if len(zones) >= _MAX_NAMES:
                zones.clear()
            zone = zones[name] = self.zone_of(name)
        out[(tcp, key[i + 1] << 8 | key[i + 2], zone, rcode)] += n


def type_label(qtype: int) -> str:
    try:
        return dns.rdatatype.to_text(dns.rdatatype.RdataType.make(qtype))
    except ValueError:
        return f"TYPE{qtype}"


def rcode_label(rcode: int) -> str:
    return dns.rcode.to_text(dns.rcode.Rcode.make(rcode))
