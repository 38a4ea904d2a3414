"""Per-zone settings: one shape, looked up by zone name, replaced whole on reload.

``config.py`` reads them from the TOML file; the engine and every door read
them from here and never see the file's model.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

import dns.name

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class HostPort:
    """An IP address and a port: something to listen on or to send to."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ZoneSettings:
    """Everything dynzone is told about one zone."""

    name: dns.name.Name
    # Where the records come from: a zone file, or else an SOA and NS built from ns/email.
    file: Path | None = None
    ns: tuple[dns.name.Name, ...] = ()
    email: str | None = None
    serial_policy: str = "increment"
    dynamic_ttl: int = 60  # TTL of records written by HTTP updates
    journal_limit: int = 1000
    export_file: Path | None = None
    export_command: str | None = None
    # Networks whose unsigned RFC 2136 UPDATEs are accepted (default: none).
    allow_update: tuple[Network, ...] = ()
    # Who may transfer the zone (AXFR/IXFR): TSIG key names (lower case, no
    # final dot) and networks; nobody unless listed.
    transfer_keys: frozenset[str] = frozenset()
    transfer_networks: tuple[Network, ...] = ()
    # Secondaries sent a NOTIFY after every change, and the key that signs it.
    notify: tuple[HostPort, ...] = ()
    notify_key: str | None = None
