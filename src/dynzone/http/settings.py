"""Settings of the HTTP API (``[http]`` in the config file)."""

from __future__ import annotations

from dataclasses import dataclass

from dynzone.engine.settings import HostPort, Network

DEFAULT_HTTP_PORT = 8053


@dataclass(frozen=True)
class HttpSettings:
    listen: tuple[HostPort, ...] = ()
    trusted_proxies: tuple[Network, ...] = ()
    updates_per_host_per_minute: int = 10
    failed_logins_per_minute: int = 5
