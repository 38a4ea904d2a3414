"""Proxy headers count only from trusted proxies."""

from __future__ import annotations

import ipaddress

from dynzone.http.clientaddr import client_address

TRUSTED = [ipaddress.ip_network("10.0.0.0/8")]


def test_untrusted_peer_headers_are_ignored() -> None:
    headers = {"X-Forwarded-For": "203.0.113.1", "X-Real-IP": "203.0.113.2"}
    assert str(client_address("192.0.2.9", headers, TRUSTED)) == "192.0.2.9"


def test_trusted_proxy_forwarded_for_takes_the_first_untrusted_hop_from_the_right() -> None:
    headers = {"X-Forwarded-For": "198.51.100.66, 203.0.113.1, 10.1.1.1"}
    # 198.51.100.66 is what the client claimed about itself; 203.0.113.1 connected to our proxy.
    assert str(client_address("10.0.0.1", headers, TRUSTED)) == "203.0.113.1"


def test_trusted_proxy_real_ip_and_mapped_addresses() -> None:
    assert str(client_address("10.0.0.1", {"X-Real-IP": "2001:db8::1"}, TRUSTED)) == "2001:db8::1"
    assert str(client_address("::ffff:192.0.2.7", {}, TRUSTED)) == "192.0.2.7"


def test_garbage_headers_fall_back_to_the_peer() -> None:
    assert str(client_address("10.0.0.1", {"X-Real-IP": "nonsense"}, TRUSTED)) == "10.0.0.1"


def test_unreadable_forwarded_for_from_a_trusted_proxy_falls_back_to_x_real_ip() -> None:
    headers = {"X-Forwarded-For": "unknown, garbage", "X-Real-IP": "203.0.113.9"}
    assert str(client_address("10.0.0.1", headers, TRUSTED)) == "203.0.113.9"
    assert str(client_address("10.0.0.1", {"X-Forwarded-For": "garbage"}, TRUSTED)) == "10.0.0.1"


def test_a_scoped_address_is_never_the_client() -> None:
    headers = {"X-Forwarded-For": "fe80::1%eth0", "X-Real-IP": "fe80::2%eth0"}
    assert str(client_address("10.0.0.1", headers, TRUSTED)) == "10.0.0.1"
