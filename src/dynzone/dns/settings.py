"""Settings of the DNS listeners (``[dns]`` in the config file)."""

from __future__ import annotations

from dataclasses import dataclass

from dynzone.engine.settings import HostPort

DEFAULT_DNS_PORT = 5353


@dataclass(frozen=True)
class DnsSettings:
    listen: tuple[HostPort, ...] = (HostPort("127.0.0.1", DEFAULT_DNS_PORT),)
    edns_payload: int = 1232
    tcp_idle_timeout: float = 10.0
    tcp_max_connections: int = 1000
