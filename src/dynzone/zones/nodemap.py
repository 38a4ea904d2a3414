"""A persistent map from owner key to node, so that a changed zone costs its change.

A snapshot is immutable, and the next one after an update differs in a few
nodes. Copying a plain dict of every node would cost the size of the zone;
here the keys are spread over buckets (small dicts) by hash, and the next
version copies the list of buckets and only the buckets it changes. The rest
are shared with the previous version, which stays valid for the queries
still reading it.

Buckets hold about ``_TARGET`` keys; when the map grows or shrinks fourfold
it is rebuilt with a fitting number of buckets (at most once per fourfold
change in size, so the cost per change stays constant on average).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Generic, TypeVar

V = TypeVar("V")

_TARGET = 64  # keys per bucket on average


def _bucket_count(size: int) -> int:
    count = 1
    while count * _TARGET < size:
        count *= 2
    return count


class NodeMap(Generic[V]):
    """An immutable mapping of bytes keys; ``evolve`` makes the next version."""

    __slots__ = ("_buckets", "_len", "_mask")

    def __init__(self, items: Mapping[bytes, V] | Iterable[tuple[bytes, V]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        flat = dict(pairs)
        count = _bucket_count(len(flat))
        buckets: list[dict[bytes, V]] = [{} for _ in range(count)]
        mask = count - 1
        for key, value in flat.items():
            buckets[hash(key) & mask][key] = value
        self._buckets = buckets
        self._mask = mask
        self._len = len(flat)

    def get(self, key: bytes, default: V | None = None) -> V | None:
        return self._buckets[hash(key) & self._mask].get(key, default)

    def __getitem__(self, key: bytes) -> V:
        return self._buckets[hash(key) & self._mask][key]

    def __contains__(self, key: object) -> bool:
        return key in self._buckets[hash(key) & self._mask]

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[bytes]:
        for bucket in self._buckets:
            yield from bucket

    def items(self) -> Iterator[tuple[bytes, V]]:
        for bucket in self._buckets:
            yield from bucket.items()

    def values(self) -> Iterator[V]:
        for bucket in self._buckets:
            yield from bucket.values()

    def evolve(self, changes: Mapping[bytes, V | None]) -> NodeMap[V]:
        """This map with ``changes`` applied (a value of None removes the key)."""
        buckets = list(self._buckets)
        mask = self._mask
        size = self._len
        copied: set[int] = set()
        for key, value in changes.items():
            at = hash(key) & mask
            if at not in copied:
                buckets[at] = dict(buckets[at])
                copied.add(at)
            bucket = buckets[at]
            if value is None:
                if bucket.pop(key, None) is not None:
                    size -= 1
            else:
                size += key not in bucket
                bucket[key] = value
        out: NodeMap[V] = object.__new__(NodeMap)
        out._buckets = buckets
        out._mask = mask
        out._len = size
        count = len(buckets)
        if size > count * _TARGET * 4 or (count > 1 and size * 4 < count * _TARGET):
            return NodeMap(out.items())
        return out
