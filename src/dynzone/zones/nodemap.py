"""A persistent map from owner key to node, so that a changed zone costs its change.

A snapshot is immutable, and the next one after an update differs in a few
nodes. Copying a plain dict of every node would cost the size of the zone.
Here the keys are spread by hash over small dicts (buckets of about
``_TARGET`` keys), the buckets over pages, and the pages over one directory.
The next version copies the directory, the pages it changes and the buckets
it changes; everything else is shared with the previous version, which stays
valid for the queries still reading it. A change of one key copies two
lists of about the square root of the number of buckets, and one bucket:
some hundreds of pointers for a million names.

When the map grows or shrinks fourfold it is rebuilt with a fitting number of
buckets (at most once per fourfold change in size, so the cost per change
stays constant on average).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Generic, TypeVar

V = TypeVar("V")

_TARGET = 64  # keys per bucket on average


def _shape(size: int) -> tuple[int, int]:
    """log2 of the number of pages and of buckets per page for ``size`` keys."""
    buckets = 0
    while (1 << buckets) * _TARGET < size:
        buckets += 1
    pages = buckets // 2
    return pages, buckets - pages


class NodeMap(Generic[V]):
    """An immutable mapping of bytes keys; ``evolve`` makes the next version."""

    __slots__ = ("_len", "_mask", "_pages", "_shift")

    def __init__(self, items: Mapping[bytes, V] | Iterable[tuple[bytes, V]] = ()) -> None:
        # A dict is used as it is (a snapshot's build hands over its own).
        flat = items if isinstance(items, dict) else dict(items)
        page_bits, bucket_bits = _shape(len(flat))
        pages: list[list[dict[bytes, V]]] = [
            [{} for _ in range(1 << bucket_bits)] for _ in range(1 << page_bits)
        ]
        mask = (1 << bucket_bits) - 1
        page_mask = (1 << page_bits) - 1
        for key, value in flat.items():
            h = hash(key)
            pages[(h >> bucket_bits) & page_mask][h & mask][key] = value
        self._pages = pages
        self._mask = mask
        self._shift = bucket_bits
        self._len = len(flat)

    def _bucket(self, key: bytes) -> dict[bytes, V]:
        h = hash(key)
        pages = self._pages
        return pages[(h >> self._shift) & (len(pages) - 1)][h & self._mask]

    def get(self, key: bytes, default: V | None = None) -> V | None:
        # _bucket written out: this is on every lookup's path.
        h = hash(key)
        pages = self._pages
        return pages[(h >> self._shift) & (len(pages) - 1)][h & self._mask].get(key, default)

    def __getitem__(self, key: bytes) -> V:
        return self._bucket(key)[key]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, bytes) and key in self._bucket(key)

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[bytes]:
        for page in self._pages:
            for bucket in page:
                yield from bucket

    def items(self) -> Iterator[tuple[bytes, V]]:
        for page in self._pages:
            for bucket in page:
                yield from bucket.items()

    def values(self) -> Iterator[V]:
        for page in self._pages:
            for bucket in page:
                yield from bucket.values()

    def buckets(self) -> Iterator[dict[bytes, V]]:
        """The dicts the keys are spread over (to walk every value at C speed)."""
        for page in self._pages:
            yield from page

    def evolve(self, changes: Mapping[bytes, V | None]) -> NodeMap[V]:
        """This map with ``changes`` applied (a value of None removes the key)."""
        pages = list(self._pages)
        page_mask = len(pages) - 1
        mask, shift = self._mask, self._shift
        size = self._len
        copied_pages: set[int] = set()
        copied: set[tuple[int, int]] = set()
        for key, value in changes.items():
            h = hash(key)
            p, b = (h >> shift) & page_mask, h & mask
            if p not in copied_pages:
                pages[p] = list(pages[p])
                copied_pages.add(p)
            page = pages[p]
            if (p, b) not in copied:
                page[b] = dict(page[b])
                copied.add((p, b))
            bucket = page[b]
            if value is None:
                if bucket.pop(key, None) is not None:
                    size -= 1
            else:
                size += key not in bucket
                bucket[key] = value
        out: NodeMap[V] = object.__new__(NodeMap)
        out._pages = pages
        out._mask = mask
        out._shift = shift
        out._len = size
        buckets = len(pages) << shift
        if size > buckets * _TARGET * 4 or (buckets > 1 and size * 4 < buckets * _TARGET):
            return NodeMap(out.items())
        return out
