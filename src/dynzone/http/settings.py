"""Settings of the HTTP API (``[http]`` in the config file)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import dns.name

from dynzone.engine.settings import HostPort, Network

DEFAULT_HTTP_PORT = 8053


@dataclass(frozen=True)
class AcmeDnsSettings:
    """``[acme_dns]``: the zone whose names accounts get, who may register, and
    how long a TXT value lives unless deleted sooner."""

    zone: dns.name.Name
    register_from: tuple[Network, ...] = ()  # empty: only `dynzone acme-dns register`
    txt_ttl: int = 3600


@dataclass(frozen=True)
class HttpSettings:
    listen: tuple[HostPort, ...] = ()
    trusted_proxies: tuple[Network, ...] = ()
    updates_per_host_per_minute: int = 10
    failed_logins_per_minute: int = 5
    header_timeout: float = 10.0
    max_connections: int = 512
    max_connections_per_address: int = 32
    # Who may read /metrics; loopback unless the config says otherwise.
    metrics_from: tuple[Network, ...] = (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    acme_dns: AcmeDnsSettings | None = None  # None: no acme-dns API
