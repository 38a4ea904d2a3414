"""Token buckets keyed by host name or client address.

Each key may spend ``per_minute`` tokens at once and earns them back at that
rate. The table is bounded: when it grows past ``max_keys`` the full buckets
(keys that would be allowed anyway) are forgotten.
"""

from __future__ import annotations

import time


class RateLimit:
    def __init__(self, per_minute: int, max_keys: int = 100_000, burst: int | None = None) -> None:
        self.capacity = float(per_minute if burst is None else burst)
        self.rate = per_minute / 60.0
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last time)

    def _tokens(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.capacity, now))
        return min(self.capacity, tokens + (now - last) * self.rate)

    def allowed(self, key: str, now: float | None = None) -> bool:
        """True if ``key`` has a token left (nothing is spent)."""
        now = time.monotonic() if now is None else now
        return self._tokens(key, now) >= 1.0

    def wait(self, key: str, now: float | None = None) -> float:
        """Seconds until ``key`` has a token again (0 if it has one now)."""
        now = time.monotonic() if now is None else now
        missing = 1.0 - self._tokens(key, now)
        if missing <= 0:
            return 0.0
        return missing / self.rate if self.rate > 0 else float("inf")

    def spend(self, key: str, now: float | None = None) -> bool:
        """Spend one token; False (and nothing spent) if none is left."""
        now = time.monotonic() if now is None else now
        tokens = self._tokens(key, now)
        if tokens < 1.0:
            return False
        self._buckets[key] = (tokens - 1.0, now)
        if len(self._buckets) > self.max_keys:
            self._forget_full(now)
        return True

    def refund(self, key: str, now: float | None = None) -> None:
        """Give back a token spent ahead of a check that turned out not to count."""
        now = time.monotonic() if now is None else now
        self._buckets[key] = (min(self.capacity, self._tokens(key, now) + 1.0), now)

    def _forget_full(self, now: float) -> None:
        for key in list(self._buckets):
            if self._tokens(key, now) >= self.capacity:
                del self._buckets[key]
