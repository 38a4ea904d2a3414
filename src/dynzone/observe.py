"""The live series of ``/metrics``: what the running server's parts hold now.

Read at scrape time from the listeners' counters (dns/stats.py and the
TCP, HTTP, RRL and hand-off counts), the engine's catalog (zone serials)
and the propagation tracker (each secondary's serial and lag). Composed
by server.py, which owns all of these parts.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client.core import Metric

from dynzone.dns.handoff import InFlight
from dynzone.dns.listeners import TcpLimits
from dynzone.dns.responder import Responder
from dynzone.dns.rrl import RateLimiter
from dynzone.dns.stats import rcode_label, type_label
from dynzone.engine.engine import Engine
from dynzone.metrics import counter, gauge
from dynzone.xfr.propagation import Tracker

if TYPE_CHECKING:
    # Only a type here: the HTTP side (aiohttp) is imported when HTTP is served.
    from dynzone.http.guard import ConnectionGuard


@dataclass
class Parts:
    """Where each live series is read from (None: that part is not running)."""

    engine: Engine
    responder: Responder
    tracker: Tracker
    tcp: TcpLimits | None = None
    rrl: RateLimiter | None = None
    inflight: InFlight | None = None
    http: ConnectionGuard | None = None


def reader(parts: Parts) -> Callable[[], Iterator[Metric]]:
    """The function a ``LiveCollector`` calls at each scrape."""

    def read() -> Iterator[Metric]:
        yield from _dns(parts)
        yield from _zones(parts)
        yield from _connections(parts)

    return read


def _dns(parts: Parts) -> Iterator[Metric]:
    stats = parts.responder.stats
    requests: dict[tuple[str, ...], float] = defaultdict(float)
    responses: dict[tuple[str, ...], float] = defaultdict(float)
    if stats is not None:
        for (tcp, qtype, zone, rcode), n in stats.totals().items():
            transport = "tcp" if tcp else "udp"
            requests[(transport, type_label(qtype), zone)] += n
            responses[(transport, rcode_label(rcode), zone)] += n
    yield counter(
        "dynzone_dns_requests",
        "Queries answered on the query path, by transport, query type and zone"
        ' ("" when in no zone served here).',
        ["transport", "type", "zone"],
        requests,
    )
    yield counter(
        "dynzone_dns_responses",
        "Responses by transport, rcode and zone (as answered; UDP answers that rate"
        " limiting then withheld are also in dynzone_rrl_responses_total).",
        ["transport", "rcode", "zone"],
        responses,
    )
    hits = int(repr(parts.responder.cache_hits)[6:-1])  # "count(N)"
    yield counter("dynzone_dns_cache_hits", "Answers served from the answer cache.", [], {(): hits})
    rrl = parts.rrl
    yield counter(
        "dynzone_rrl_responses",
        "UDP answers response rate limiting withheld: dropped, or slipped (sent truncated).",
        ["action"],
        {("dropped",): rrl.dropped if rrl else 0, ("slipped",): rrl.slipped if rrl else 0},
    )
    inflight = parts.inflight
    yield counter(
        "dynzone_handoff_dropped",
        "UPDATE, NOTIFY, transfer and signed messages dropped over the in-progress bound.",
        [],
        {(): inflight.refused if inflight else 0},
    )


def _zones(parts: Parts) -> Iterator[Metric]:
    catalog = parts.engine.catalog
    serials: dict[tuple[str, ...], float] = {
        (z.origin.to_text(),): float(z.serial) for z in catalog.zones.values()
    }
    yield gauge(
        "dynzone_zone_serial", "The SOA serial each zone is served with.", ["zone"], serials
    )
    now = time.time()
    served: dict[tuple[str, ...], float] = {}
    lag: dict[tuple[str, ...], float] = {}
    tracker = parts.tracker
    for zone, targets in tracker.seen.items():
        changed = tracker.changed_at.get(zone)
        for target, seen in targets.items():
            if seen.serial is None:
                continue
            served[(zone, target)] = float(seen.serial)
            behind = changed is not None and changed[0] != seen.serial
            lag[(zone, target)] = now - changed[1] if behind and changed else 0.0
    yield gauge(
        "dynzone_secondary_serial",
        "The serial each secondary was last seen serving (its SOA, polled after NOTIFY).",
        ["zone", "secondary"],
        served,
    )
    yield gauge(
        "dynzone_secondary_lag_seconds",
        "How long each secondary has been behind the latest change (0: caught up).",
        ["zone", "secondary"],
        lag,
    )


def _connections(parts: Parts) -> Iterator[Metric]:
    tcp = parts.tcp
    yield gauge(
        "dynzone_tcp_connections", "Open DNS TCP connections.", [], {(): tcp.open if tcp else 0}
    )
    yield counter(
        "dynzone_tcp_connections_closed",
        "DNS TCP connections we closed or refused: full (no idle one to close),"
        " idle (closed to make room), deadline (no whole message in time).",
        ["reason"],
        {
            ("full",): tcp.refused if tcp else 0,
            ("idle",): tcp.evicted if tcp else 0,
            ("deadline",): tcp.timed_out if tcp else 0,
        },
    )
    http = parts.http
    yield gauge(
        "dynzone_http_connections", "Open HTTP connections.", [], {(): http.open if http else 0}
    )
    yield counter(
        "dynzone_http_connections_closed",
        "HTTP connections refused over a cap, or closed without whole headers in time.",
        ["reason"],
        {
            ("full",): http.refused if http else 0,
            ("deadline",): http.timed_out if http else 0,
        },
    )
