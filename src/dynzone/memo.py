"""A bounded memo of what was worked out from an object, found by the object itself.

dnspython renders a name or a record anew every time its wire form or text
is asked for, and one request asks for the same objects' several times
over. ``ByObject`` keeps the last few thousand results by object identity:
each entry keeps its object alive, so an id is never taken for another
object's, and the whole memo is dropped when full (a load of a million
records pays one dict store each, nothing more). Safe from any thread:
each step is one dict operation, and a lost entry is only worked out again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

KEPT = 4096


class ByObject(Generic[K, V]):
    """``compute(obj)``, remembered for the last ``kept`` objects it was asked about."""

    __slots__ = ("_compute", "_found", "_kept")

    def __init__(self, compute: Callable[[K], V], kept: int = KEPT) -> None:
        self._compute = compute
        self._found: dict[int, tuple[K, V]] = {}
        self._kept = kept

    def __call__(self, obj: K) -> V:
        found = self._found.get(id(obj))
        if found is not None and found[0] is obj:
            return found[1]
        value = self._compute(obj)
        self.remember(obj, value)
        return value

    def remember(self, obj: K, value: V) -> None:
        """Note that ``obj``'s result is ``value`` (worked out some cheaper way)."""
        if len(self._found) >= self._kept:
            self._found.clear()
        self._found[id(obj)] = (obj, value)
