"""The persistent node map: a new version shares what it did not change."""

from __future__ import annotations

import random

from dynzone.zones.nodemap import NodeMap


def test_evolve_leaves_the_old_version_as_it_was() -> None:
    old = NodeMap({b"a": 1, b"b": 2})
    new = old.evolve({b"a": 10, b"c": 3, b"b": None})
    assert dict(old.items()) == {b"a": 1, b"b": 2} and len(old) == 2
    assert dict(new.items()) == {b"a": 10, b"c": 3} and len(new) == 2
    assert new.get(b"b") is None and b"c" in new and new[b"c"] == 3


def test_a_long_random_history_matches_a_plain_dict() -> None:
    rng = random.Random(7)
    plain: dict[bytes, int] = {}
    versions = [(NodeMap[int](), dict(plain))]
    current = versions[0][0]
    for step in range(400):
        changes: dict[bytes, int | None] = {}
        for _ in range(rng.randint(1, 60)):
            key = f"k{rng.randrange(3000)}".encode()
            changes[key] = None if rng.random() < 0.3 else step
        current = current.evolve(changes)
        for key, value in changes.items():
            if value is None:
                plain.pop(key, None)
            else:
                plain[key] = value
        versions.append((current, dict(plain)))
    # Every version, old ones included, still reads as it was made.
    for version, expected in versions[::37]:
        assert dict(version.items()) == expected and len(version) == len(expected)
        assert all(version.get(k) == v for k, v in expected.items())


def test_growing_fourfold_rebuilds_with_more_buckets() -> None:
    small = NodeMap({b"x": 0})
    big = small.evolve({f"k{i}".encode(): i for i in range(5000)})
    assert len(big._pages) * (big._mask + 1) > len(small._pages) * (small._mask + 1)
    assert len(big) == 5001
