"""The access module: one answer for each way in (dyndns2, RFC 2136 signed and unsigned,
transfers, NOTIFY), from grants and the zone's lists."""

from __future__ import annotations

import ipaddress

import dns.name
import dns.rdatatype
import pytest

from dynzone.engine import access
from dynzone.engine.access import Action, Door
from dynzone.engine.settings import HostPort, ZoneSettings
from dynzone.policy import Grant, Identity

A, AAAA, TXT, NS, SOA, DS = (
    dns.rdatatype.A,
    dns.rdatatype.AAAA,
    dns.rdatatype.TXT,
    dns.rdatatype.NS,
    dns.rdatatype.SOA,
    dns.rdatatype.DS,
)


def n(text: str) -> dns.name.Name:
    return dns.name.from_text(text)


ZONE = ZoneSettings(
    n("example.com"),
    allow_update=(ipaddress.ip_network("192.0.2.0/24"),),
    transfer_keys=frozenset({"xfr"}),
    transfer_networks=(ipaddress.ip_network("2001:db8::/32"),),
    notify=(HostPort("198.51.100.7", 53),),
    notify_key="notify",
)
USER = Identity("user:alice", (Grant("home.example.com."), Grant("*.lab.example.com.")))
KEY = Identity(
    "key:acme",
    (Grant("_acme-challenge.example.com.", frozenset({TXT})), Grant("*.example.com.")),
)


@pytest.mark.parametrize(
    ("name", "rdtype", "expected"),
    [
        ("home.example.com.", A, True),
        ("home.example.com.", AAAA, True),
        ("home.example.com.", TXT, False),  # dyndns2 writes addresses only
        ("x.lab.example.com.", A, True),
        ("lab.example.com.", A, False),  # a subtree grant is below its name
        ("other.example.com.", A, False),
    ],
)
def test_dyndns2_users_change_addresses_of_their_hosts(
    name: str, rdtype: int, expected: bool
) -> None:
    assert access.may_change(USER, Door.DYNDNS2, n(name), rdtype) is expected


@pytest.mark.parametrize(
    ("name", "rdtype", "at_apex", "expected"),
    [
        ("_acme-challenge.example.com.", TXT, False, True),
        ("_acme-challenge.example.com.", A, False, True),  # by the subtree grant
        ("www.example.com.", NS, False, True),
        ("example.com.", NS, True, False),  # apex NS: only a grant naming NS
        ("www.example.com.", SOA, False, False),
        ("www.example.com.", DS, False, False),  # DNSSEC data: only a signer
        ("www.example.net.", A, False, False),
    ],
)
def test_rfc2136_keys_change_what_their_grants_cover(
    name: str, rdtype: int, at_apex: bool, expected: bool
) -> None:
    assert access.may_change(KEY, Door.RFC2136, n(name), rdtype, at_apex) is expected


def test_unsigned_updates_come_only_from_allow_update_networks() -> None:
    who = access.unsigned_update_identity(ZONE, "192.0.2.77")
    assert who is not None and who.name == "address:192.0.2.77"
    assert access.may_change(who, Door.RFC2136, n("anything.example.com."), TXT)
    assert access.unsigned_update_identity(ZONE, "203.0.113.1") is None
    assert access.unsigned_update_identity(ZONE, "not an address") is None
    assert access.allowed(Action.UPDATE, ZONE, "192.0.2.1")
    assert not access.allowed(Action.UPDATE, ZONE, "2001:db8::1")


@pytest.mark.parametrize(
    ("address", "key", "expected"),
    [
        ("203.0.113.9", "xfr", True),  # the listed key, from anywhere
        ("2001:db8::53", None, True),  # the listed network, unsigned
        ("203.0.113.9", None, False),
        ("203.0.113.9", "other", False),
        ("192.0.2.1", None, False),  # allow_update does not allow transfers
    ],
)
def test_transfers_by_key_or_network_only(address: str, key: str | None, expected: bool) -> None:
    assert access.allowed(Action.TRANSFER, ZONE, address, key) is expected


def test_nothing_is_transferred_unless_listed() -> None:
    bare = ZoneSettings(n("example.org"))
    assert not access.allowed(Action.TRANSFER, bare, "127.0.0.1")
    assert not access.allowed(Action.TRANSFER, bare, "::1", "xfr")


@pytest.mark.parametrize(
    ("address", "key", "expected"),
    [
        ("198.51.100.7", None, True),  # a secondary we notify
        ("2001:db8::2", None, True),  # a transfer client
        ("203.0.113.9", "notify", True),  # signed with notify_key
        ("203.0.113.9", "xfr", True),  # signed with a transfer key
        ("203.0.113.9", None, False),
        ("203.0.113.9", "other", False),
    ],
)
def test_notify_is_acknowledged_from_known_sources(
    address: str, key: str | None, expected: bool
) -> None:
    assert access.allowed(Action.NOTIFY, ZONE, address, key) is expected


def test_an_identity_reaches_a_zone_it_has_a_grant_in() -> None:
    assert access.reaches(USER, n("example.com."))
    assert access.reaches(KEY, n("sub.example.com."))  # a subtree grant reaches below
    assert not access.reaches(USER, n("example.net."))
    assert access.may_delete_name(KEY, n("old.example.com."))
    assert not access.may_delete_name(USER, n("old.example.com."))
