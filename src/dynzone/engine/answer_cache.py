"""Rendered answers, each filed under the dependency tags it was computed from.

The query path (``dns/responder.py``) keeps three dictionaries here:

* ``entries``: the rendered reply by canonical question (lower-cased name,
  type, class, EDNS variant);
* ``exact``: whole UDP replies (less the ID) by the exact query bytes after
  the ID, so that a repeated query is one dictionary lookup. A reply that
  carries a zone's SOA serial (a negative answer) is kept in one of two
  forms. For a quiet zone, whole bytes with the serial written in, filed
  under the zone's ``serial_tag`` so that its next commit retires them. For a
  zone that changed in the last ``BUSY_SECONDS``, ``(head, zone key, rest)``,
  the serial written in as it is served: re-making such replies after every
  commit would cost more than writing four bytes into each;
* ``shapes``: NXDOMAIN and wildcard bodies shared by all names of one length.

Every entry is filed under the tags of ``zones/deps.py`` it depends on. A
commit calls ``retire`` with the tags it changed, and exactly the entries
filed under them go (with the ``exact`` replies made from them); every other
answer stays hot.

Threads: the UDP thread and the event loop read without a lock and add
entries under ``lock``; the engine swaps the catalog and retires under the
same lock. An entry is added only if the catalog it was computed from is
still ``current``, so an answer computed from a snapshot older than the last
commit can never slip in after that commit's retirement.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from dynzone.zones.deps import SERIAL_PREFIX, serial_tag

# A serial to patch in when the answer is served: the offset of a 4-byte SOA
# serial in the rendered bytes, and the key of the zone whose serial it is.
Patches = tuple[tuple[int, bytes], ...]

# A pre-rendered answer: header flag bytes 2 and 3, the counts (QD, AN, NS,
# AR), the body after the question, the whole reply's length, and the SOA
# serials in the body to patch.
CachedAnswer = tuple[int, int, bytes, bytes, int, Patches]

# (zone key, shape kind, question name length, the question's type, class and
# variant); a direct answer's tail has TAIL_MARK for kind and an int last
# (packed_answer.py).
ShapeKey = tuple[bytes, bytes, int, bytes | int]
Shape = tuple[CachedAnswer, frozenset[bytes], frozenset[bytes]]  # entry, names, tags

# A reply carrying its SOA serial split around it: (bytes before, zone key,
# bytes after); see the module docstring.
SplitReply = tuple[bytes, bytes, bytes]

# How long after a commit a zone counts as changing (see SplitReply).
BUSY_SECONDS = 60.0

# Bound on cached answers; random-name floods must not grow memory without
# limit. When full, the cache starts over.
CACHE_LIMIT = 250_000
# Tag memberships left behind by retired entries are dropped with everything
# else once they pass this many.
_MEMBERSHIP_LIMIT = 8 * CACHE_LIMIT


class AnswerCache:
    """The answer caches shared by successive catalogs, and their dependency index."""

    __slots__ = (
        "_by_tag",
        "_changed",
        "_exact_of",
        "_members",
        "current",
        "entries",
        "exact",
        "lock",
        "once",
        "shapes",
    )

    def __init__(self) -> None:
        self.entries: dict[bytes, CachedAnswer] = {}
        self.exact: dict[bytes, bytes | SplitReply] = {}
        self._changed: dict[bytes, float] = {}  # zone key -> when its serial last changed
        self.shapes: dict[ShapeKey, Shape] = {}
        self._by_tag: dict[bytes, set[Any]] = {}
        self._exact_of: dict[bytes, list[bytes]] = {}
        self._members = 0
        # Questions asked once, whose answers are cached if asked again
        # (responder.py, for answers that cost little to make).
        self.once: dict[bytes, None] = {}
        # The catalog being served; set by the engine under ``lock`` at every swap.
        self.current: object = None
        self.lock = threading.Lock()

    def put(self, catalog: object, key: bytes, entry: CachedAnswer, tags: frozenset[bytes]) -> None:
        """Cache ``entry`` for the question ``key``, computed from ``catalog``."""
        with self.lock:
            if self.current is not catalog:
                return  # computed from an older catalog: possibly stale
            if len(self.entries) >= CACHE_LIMIT or self._members >= _MEMBERSHIP_LIMIT:
                self._clear()
            self.entries[key] = entry
            self._file(key, tags)

    def asked_again(self, key: bytes) -> bool:
        """Whether ``key`` was asked before (since the last ``CACHE_LIMIT`` first
        asks); notes it as asked if not."""
        once = self.once
        # pop, not `in` then `del`: the UDP thread and the event loop may
        # both be asking about the same question.
        if once.pop(key, False) is None:
            return True
        if len(once) >= CACHE_LIMIT:
            once.clear()
        once[key] = None
        return False

    def put_exact(
        self,
        catalog: object,
        key: bytes,
        entry: CachedAnswer,
        exact_key: bytes,
        reply: bytes,
        serials: tuple[tuple[int, bytes], ...] = (),
    ) -> None:
        """Cache the whole reply made from ``entry`` (the entry for ``key``) with
        ``catalog``; ``serials`` are the SOA serials it carries (offset, zone key)."""
        with self.lock:
            if self.current is not catalog or self.entries.get(key) is not entry:
                return  # a commit came between: the entry or a serial may be stale
            stored: bytes | SplitReply = reply
            if serials:
                changed = self._changed
                now = time.monotonic()
                busy = [z for _, z in serials if now - changed.get(z, -BUSY_SECONDS) < BUSY_SECONDS]
                if busy:
                    if len(serials) > 1:
                        return  # rare (chains across zones): the entry serves it
                    at, zone = serials[0]
                    stored = (reply[:at], zone, reply[at + 4 :])
            if len(self.exact) >= CACHE_LIMIT:
                self.exact.clear()
                self._exact_of.clear()
            self.exact[exact_key] = stored
            self._exact_of.setdefault(key, []).append(exact_key)
            if serials and stored is reply:
                self._file(("x", exact_key), [serial_tag(z) for _, z in serials])

    def put_shape(self, catalog: object, key: ShapeKey, shape: Shape) -> None:
        """Cache a body shared by the names of one length (responder._shape)."""
        with self.lock:
            if self.current is not catalog:
                return
            if len(self.shapes) >= CACHE_LIMIT:
                self._clear()
            self.shapes[key] = shape
            self._file(key, shape[2])

    def retire(self, tags: Iterable[bytes]) -> int:
        """Drop every entry filed under any of ``tags``; returns how many went.

        The caller holds ``lock`` (it swaps the catalog in the same breath).
        """
        gone = 0
        by_tag = self._by_tag
        now = time.monotonic()
        for tag in tags:
            if tag[:1] == SERIAL_PREFIX:
                self._changed[tag[1:]] = now
            members = by_tag.pop(tag, None)
            if not members:
                continue
            self._members -= len(members)
            for member in members:
                gone += self._drop(member)
        return gone

    def _file(self, member: object, tags: Iterable[bytes]) -> None:
        by_tag = self._by_tag
        for tag in tags:
            found = by_tag.get(tag)
            if found is None:
                found = by_tag[tag] = set()
            if member not in found:
                found.add(member)
                self._members += 1

    def _drop(self, member: Any) -> int:
        if isinstance(member, bytes):  # a question's entry, and replies made from it
            if self.entries.pop(member, None) is None:
                return 0
            for exact_key in self._exact_of.pop(member, ()):
                self.exact.pop(exact_key, None)
            return 1
        if len(member) == 2:  # ("x", exact key): a reply holding an old serial
            return 1 if self.exact.pop(member[1], None) is not None else 0
        return 1 if self.shapes.pop(member, None) is not None else 0

    def _clear(self) -> None:
        self.entries.clear()
        self.exact.clear()
        self.shapes.clear()
        self._by_tag.clear()
        self._exact_of.clear()
        self._members = 0

    def __len__(self) -> int:
        return len(self.entries)
