"""Settings of the DNS listeners (``[dns]`` in the config file)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from dynzone.engine.settings import HostPort, Network

DEFAULT_DNS_PORT = 5353


@dataclass(frozen=True)
class DnsSettings:
    listen: tuple[HostPort, ...] = (HostPort("127.0.0.1", DEFAULT_DNS_PORT),)
    edns_payload: int = 1232
    tcp_idle_timeout: float = 10.0
    tcp_max_connections: int = 1000
    tcp_max_connections_per_address: int = 64
    rrl_limit: int = 200  # responses per second per source network and answer; 0: off
    rrl_slip: int = 2  # every n-th dropped answer goes out truncated (TC); 0: none
    cookies: bool = True  # DNS COOKIEs (RFC 7873, server cookies as in RFC 9018)
    # The SipHash key of server cookies; None: kept in data_dir/cookie-secret.
    cookie_secret: bytes | None = None
    # Sources RRL never limits: loopback cannot be spoofed from outside.
    rrl_exempt: tuple[Network, ...] = (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
