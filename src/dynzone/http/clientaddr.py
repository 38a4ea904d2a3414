"""Who is the client: the connecting peer, or what a trusted proxy says it is.

``X-Real-IP`` and ``X-Forwarded-For`` are believed only when the connecting
peer is in ``http.trusted_proxies``; anyone else could write them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def plain(ip: Address) -> Address:
    """IPv4-mapped IPv6 (::ffff:192.0.2.1) as the IPv4 address it is."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _parse(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.scope_id is not None:
        return None
    return plain(parsed)


def client_address(peer: str, headers: Mapping[str, str], trusted: Sequence[Network]) -> Address:
    """The client's address as dynzone should see it."""
    ip = plain(ipaddress.ip_address(peer))

    def is_trusted(addr: Address) -> bool:
        return any(addr in net for net in trusted)

    if not is_trusted(ip):
        return ip
    forwarded = headers.get("X-Forwarded-For")
    if forwarded:
        # Walk from the nearest hop back; the first address not a trusted
        # proxy is the client. Earlier entries are the client's own claims.
        nearest = ip
        for hop in reversed(forwarded.split(",")):
            addr = _parse(hop)
            if addr is None:
                break  # unreadable: X-Real-IP below, if the proxy sent one
            if not is_trusted(addr):
                return addr
            nearest = addr
        else:
            return nearest
    real = headers.get("X-Real-IP")
    if real:
        addr = _parse(real)
        if addr is not None:
            return addr
    return ip
