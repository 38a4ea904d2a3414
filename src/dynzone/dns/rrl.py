"""Response rate limiting (RRL) for UDP, as NSD and Knot do it.

A spoofed source can make any UDP server reflect its answers at a victim,
larger than the queries. RRL counts the answers sent to each source network
(a /24 for IPv4, a /56 for IPv6) per second, per kind of answer: a positive
answer or NODATA per query name, NXDOMAIN and errors per source network
alone (so random names do not open new buckets). Beyond ``limit`` a second
the answers are dropped, except that every ``slip``-th one goes out as an
empty truncated reply (TC): a real client behind that network retries over
TCP, which cannot be spoofed, and is answered.

Not limited: TCP; sources in ``exempt``; clients that return a valid DNS
COOKIE (they proved their address). Each bucket that starts or stops being
limited is one security log line (rate-limited itself, see logs.py).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Sequence

from dynzone.engine.settings import Network
from dynzone.logs import security

_MAX_BUCKETS = 200_000
_TC_QR_AA = 0x8600  # QR, AA, TC


class RateLimiter:
    """The per-second buckets of one server's UDP answers."""

    def __init__(self, limit: int, slip: int, exempt: Sequence[Network] = ()) -> None:
        self.limit = limit
        self.slip = slip
        self.exempt = tuple(exempt)
        # client -> whether exempt; the responder reads it before calling judge,
        # so that an exempt client (loopback, by default) costs one dict lookup.
        self.known_exempt: dict[bytes, bool] = {}
        # key -> [second, answers counted in it]
        self._buckets: dict[bytes, list[int]] = {}
        self._limited: dict[bytes, int] = {}  # keys being limited -> answers withheld
        self.dropped = 0
        self.slipped = 0

    def _is_exempt(self, client: bytes) -> bool:
        found = self.known_exempt.get(client)
        if found is None:
            if len(self.known_exempt) > 10_000:
                self.known_exempt.clear()
            try:
                ip = ipaddress.ip_address(client)
            except ValueError:
                return False
            found = any(ip in net for net in self.exempt)
            self.known_exempt[client] = found
        return found

    def judge(self, client: bytes, query: bytes, reply: bytes, now: float) -> bytes | None:
        """``reply`` if it may go to ``client`` (its packed address), a truncated
        reply to send instead, or None to send nothing."""
        if self.exempt and self._is_exempt(client):
            return reply
        prefix = client[:3] if len(client) == 4 else client[:7]
        rcode = reply[3] & 0x0F
        if rcode == 0:
            kind = b"\x00" if reply[6:8] != b"\x00\x00" else b"\x01"
            key = prefix + kind + _qname(query).lower()
        else:
            key = prefix + bytes((0x10 | rcode,))
        second = int(now)
        bucket = self._buckets.get(key)
        if bucket is None or bucket[0] != second:
            if bucket is not None and key in self._limited:
                self._stop(key, client, bucket, second)
            if bucket is None and len(self._buckets) >= _MAX_BUCKETS:
                self._sweep(second)
            self._buckets[key] = [second, 1]
            return reply
        bucket[1] += 1
        over = bucket[1] - self.limit
        if over <= 0:
            return reply
        if key not in self._limited:
            self._limited[key] = 0
            security(
                "rrl-start",
                f"more than {self.limit} answers a second of one kind; limiting",
                client=_network(client),
            )
        self._limited[key] += 1
        if self.slip and over % self.slip == 0:
            self.slipped += 1
            return truncated(query)
        self.dropped += 1
        return None

    def _stop(self, key: bytes, client: bytes, bucket: list[int], second: int) -> None:
        if bucket[0] == second - 1 and bucket[1] > self.limit:
            return  # still over in the last second: keep limiting
        withheld = self._limited.pop(key)
        security(
            "rrl-stop",
            f"back under {self.limit} answers a second; {withheld} answers were withheld",
            client=_network(client),
        )

    def _sweep(self, second: int) -> None:
        for key in [k for k, b in self._buckets.items() if b[0] < second - 1]:
            del self._buckets[key]
            self._limited.pop(key, None)


def _qname(query: bytes) -> bytes:
    """The question name's wire bytes (the responder has checked them)."""
    i = 12
    end = len(query)
    while i < end and query[i]:
        i += query[i] + 1
    return query[12 : i + 1]


def truncated(query: bytes) -> bytes:
    """An empty reply with TC set: header and question, telling the client to use TCP."""
    name = _qname(query)
    qend = 12 + len(name) + 4
    (flags,) = struct.unpack_from("!H", query, 2)
    flags = _TC_QR_AA | (flags & 0x7900)  # keep the opcode and RD
    return query[:2] + struct.pack("!HHHHH", flags, 1, 0, 0, 0) + query[12:qend]


def _network(client: bytes) -> str:
    if len(client) == 4:
        return str(ipaddress.ip_network((client[:3] + b"\x00", 24)))
    return str(ipaddress.ip_network((client[:7] + bytes(9), 56)))
