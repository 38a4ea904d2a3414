"""The TSIG replay guard: a signed UPDATE is applied once, however often it is sent.

A TSIG MAC covers the message and its time, so a captured UPDATE stays
valid for the fudge (capped at 300 s): sent again, it would be applied
again, undoing whatever changed since. The guard remembers, per key, every
UPDATE MAC it let through until that MAC's time leaves the fudge window.
A message seen before gets the reply the first one got (a client
retransmitting over UDP after a lost reply sees its answer, and nothing is
applied twice); one still being committed gets no reply yet. Keyed by MAC,
not by time, so several clients with skewed clocks can share one key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from dynzone.dns.tsig import FUDGE

# Per key; beyond this the oldest MACs are forgotten first. At 300 s that
# is more than 160 updates a second with one key, every second.
MAX_PER_KEY = 50_000

_PENDING = b""


class ReplayGuard:
    """MACs of signed UPDATEs seen recently, and the replies they got."""

    def __init__(self, max_per_key: int = MAX_PER_KEY) -> None:
        self.max_per_key = max_per_key
        self._seen: dict[str, OrderedDict[bytes, tuple[int, bytes]]] = {}
        self._lock = threading.Lock()  # the UDP thread and the event loop both ask

    def claim(self, key: str, mac: bytes, time_signed: int, now: int) -> bool | bytes:
        """True for a MAC not seen before (now claimed); for one seen before, the
        reply it got, or False while that reply is not ready yet."""
        with self._lock:
            seen = self._seen.setdefault(key, OrderedDict())
            while seen:
                first_mac, (expires, _) = next(iter(seen.items()))
                if expires >= now and len(seen) < self.max_per_key:
                    break
                del seen[first_mac]
            found = seen.get(mac)
            if found is not None and found[0] >= now:
                return found[1] or False
            seen[mac] = (time_signed + FUDGE, _PENDING)
            return True

    def answered(self, key: str, mac: bytes, reply: bytes) -> None:
        """Remember the reply a claimed MAC got, for its repeats."""
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None and mac in seen:
                seen[mac] = (seen[mac][0], reply)
