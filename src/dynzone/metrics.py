"""What dynzone counts, for ``GET /metrics`` (Prometheus text format).

Two kinds of series, named ``dynzone_*`` in the manner of CoreDNS:

* events counted where they happen (updates and their results, commits and
  their latency, the store's sync, transfers, NOTIFYs, security events):
  the prometheus-client objects below, in this module's ``REGISTRY``;
* state read when Prometheus scrapes (queries and responses, cache hits,
  RRL, TCP and HTTP connections, zone serials, each secondary's serial and
  lag): a ``Collector`` the server registers, which reads the counters
  the listeners keep as plain integers. A query must not pay for a lock
  and a label lookup; a scrape every few seconds can afford to add up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# The *_created series double every counter's lines for a value nobody reads.
disable_created_metrics()
REGISTRY = CollectorRegistry(auto_describe=True)

_LATENCY = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

UPDATES = Counter(
    "dynzone_updates",
    "Updates by door (dyndns2, rfc2136) and result (dyndns2 reply word, RFC 2136 rcode).",
    ["door", "result"],
    registry=REGISTRY,
)
COMMITS = Counter(
    "dynzone_commits", "Store transactions of the engine, by result.", ["result"], registry=REGISTRY
)
COMMIT_SECONDS = Histogram(
    "dynzone_commit_seconds",
    "Time from the start of a commit to its change being served.",
    buckets=_LATENCY,
    registry=REGISTRY,
)
SYNC_SECONDS = Histogram(
    "dynzone_store_sync_seconds",
    "Time the store's COMMIT takes, which is when it reaches the disk (fsync).",
    buckets=_LATENCY,
    registry=REGISTRY,
)
TRANSFERS = Counter(
    "dynzone_transfers",
    "Zone transfers asked of us, by type (AXFR, IXFR) and result.",
    ["type", "result"],
    registry=REGISTRY,
)
NOTIFIES = Counter(
    "dynzone_notifies",
    "NOTIFY messages: sent to secondaries (result: acknowledged, refused, unanswered)"
    " and received.",
    ["direction", "result"],
    registry=REGISTRY,
)
SECURITY_EVENTS = Counter(
    "dynzone_security_events",
    "Security-relevant events (failed logins, bad TSIG, refused updates and transfers,"
    " RRL starts...), counted whether or not their log line was suppressed.",
    ["event"],
    registry=REGISTRY,
)


class LiveCollector(Collector):
    """Series read from the running server at scrape time."""

    def __init__(self, read: Callable[[], Iterable[Metric]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        yield from self.read()


def counter(name: str, doc: str, labels: list[str], values: dict[tuple[str, ...], float]) -> Metric:
    family = CounterMetricFamily(name, doc, labels=labels)
    for key, value in sorted(values.items()):
        family.add_metric(list(key), value)
    return family


def gauge(name: str, doc: str, labels: list[str], values: dict[tuple[str, ...], float]) -> Metric:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for key, value in sorted(values.items()):
        family.add_metric(list(key), value)
    return family
