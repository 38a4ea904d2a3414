"""Token buckets: a burst up to the limit, then refilled at the limit's rate."""

from __future__ import annotations

from dynzone.http.ratelimit import RateLimit


def test_burst_then_refusal_then_refill() -> None:
    limit = RateLimit(per_minute=3)
    assert [limit.spend("h", now=0.0) for _ in range(4)] == [True, True, True, False]
    assert not limit.allowed("h", now=10.0)
    assert limit.allowed("h", now=20.0)  # one token back after 20 s
    assert limit.allowed("other", now=0.0)


def test_the_table_forgets_full_buckets_when_it_grows() -> None:
    limit = RateLimit(per_minute=1, max_keys=10)
    for i in range(10):
        limit.spend(f"k{i}", now=0.0)
    limit.spend("last", now=1000.0)  # every other bucket has refilled by now
    assert len(limit._buckets) <= 1
