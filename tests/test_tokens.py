"""API tokens: a key checked against its hash, its networks and its expiry."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import dns.name
import dns.rdatatype
import pytest

from dynzone.policy import Grant
from dynzone.store import open_store
from dynzone.store.base import Store
from dynzone.tokens import (
    Refused,
    TokenError,
    add_token,
    all_tokens,
    check_key,
    parse_duration,
    parse_networks,
    remove_token,
)

LAB = Grant("*.lab.example.com.", frozenset({int(dns.rdatatype.A)}))
INSIDE = ipaddress.ip_address("192.0.2.7")
OUTSIDE = ipaddress.ip_address("198.51.100.1")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path)


def test_a_key_gives_the_tokens_identity_with_its_grants(store: Store) -> None:
    key = add_token(store, "lab", [LAB])
    name, _, secret = key.partition(".")
    assert name == "lab" and len(secret) >= 43  # 32 random bytes
    identity = check_key(store, key, INSIDE)
    assert not isinstance(identity, Refused)
    assert identity.name == "token:lab" and identity.grants == (LAB,)
    a = int(dns.rdatatype.A)
    assert identity.may(dns.name.from_text("pc.lab.example.com."), a, ())
    assert not identity.may(dns.name.from_text("www.example.com."), a, ())


def test_the_secret_is_stored_only_as_a_hash(store: Store) -> None:
    key = add_token(store, "lab", [LAB])
    found = store.identity("token:lab")
    assert found is not None and key.partition(".")[2] not in found[0]


def test_wrong_unknown_and_malformed_keys_are_refused(store: Store) -> None:
    key = add_token(store, "lab", [LAB])
    name, _, secret = key.partition(".")
    assert check_key(store, f"{name}.{secret[:-1]}x", INSIDE) == Refused(
        "wrong secret for token lab"
    )
    assert check_key(store, f"other.{secret}", INSIDE) == Refused("no token other")
    assert isinstance(check_key(store, secret, INSIDE), Refused)
    assert isinstance(check_key(store, "", INSIDE), Refused)


def test_an_expired_token_is_refused(store: Store) -> None:
    key = add_token(store, "short", [LAB], lifetime=60, now=1_000_000)
    assert not isinstance(check_key(store, key, INSIDE, now=1_000_059), Refused)
    assert check_key(store, key, INSIDE, now=1_000_060) == Refused("token short has expired")


def test_a_token_is_refused_outside_its_networks(store: Store) -> None:
    networks = parse_networks(["192.0.2.0/24", "2001:db8::/32"])
    key = add_token(store, "near", [LAB], networks)
    assert not isinstance(check_key(store, key, INSIDE), Refused)
    assert not isinstance(check_key(store, key, ipaddress.ip_address("2001:db8::9")), Refused)
    assert check_key(store, key, OUTSIDE) == Refused("token near may not be used from 198.51.100.1")


def test_list_shows_grants_networks_and_expiry_and_remove_ends_a_token(store: Store) -> None:
    add_token(store, "reader", [])
    add_token(store, "near", [LAB], parse_networks(["192.0.2.0/24"]), 3600, now=5_000)
    listed = {t.name: t for t in all_tokens(store)}
    assert listed["reader"].grants == () and listed["reader"].expires is None
    assert listed["near"].allow_from == (ipaddress.ip_network("192.0.2.0/24"),)
    assert listed["near"].expires == 8_600 and listed["near"].expired(8_600)
    key = add_token(store, "gone", [LAB])
    remove_token(store, "gone")
    assert check_key(store, key, INSIDE) == Refused("no token gone")
    with pytest.raises(TokenError, match="no token gone"):
        remove_token(store, "gone")


def test_bad_names_networks_and_durations_are_told_apart(store: Store) -> None:
    with pytest.raises(TokenError, match="not a usable token name"):
        add_token(store, "a.b", [])
    add_token(store, "once", [])
    with pytest.raises(TokenError, match="already exists"):
        add_token(store, "once", [])
    with pytest.raises(TokenError, match="not a network or address"):
        parse_networks(["192.0.2.0/33"])
    with pytest.raises(TokenError, match="not a duration"):
        parse_duration("soon")
    assert parse_duration("1w2d") == 9 * 86400 and parse_duration("3600") == 3600
