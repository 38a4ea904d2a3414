"""acme-dns accounts: registered with one TXT name, checked by password and network."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import dns.name
import dns.rdatatype
import pytest

from dynzone import acme_accounts
from dynzone.engine.access import Door, may_change
from dynzone.store import open_store
from dynzone.store.base import Store
from dynzone.tokens import Refused, parse_networks

ZONE = dns.name.from_text("acme.example.com.")
INSIDE = ipaddress.ip_address("192.0.2.7")
OUTSIDE = ipaddress.ip_address("198.51.100.1")
TXT = int(dns.rdatatype.TXT)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path)


def test_registration_gives_acme_dns_shaped_credentials(store: Store) -> None:
    reg = acme_accounts.register(store, ZONE)
    body = reg.as_json()
    assert list(body) == ["username", "password", "fulldomain", "subdomain", "allowfrom"]
    assert acme_accounts.valid_subdomain(reg.subdomain)
    assert acme_accounts.valid_subdomain(reg.username)
    assert len(reg.password) == 40
    assert reg.fulldomain == f"{reg.subdomain}.acme.example.com"
    assert body["allowfrom"] == []
    assert reg.password not in str(store.identity(acme_accounts.PREFIX + reg.username))


def test_the_account_may_set_txt_at_its_own_name_only(store: Store) -> None:
    reg = acme_accounts.register(store, ZONE)
    found = acme_accounts.check(store, reg.username, reg.password, OUTSIDE)
    assert not isinstance(found, Refused)
    identity, own = found
    assert identity.name == f"acme:{reg.username}"
    assert acme_accounts.subdomain_of(own) == reg.subdomain
    assert own == dns.name.from_text(reg.fulldomain + ".")
    assert may_change(identity, Door.ACME_DNS, own, TXT)
    assert not may_change(identity, Door.ACME_DNS, own, int(dns.rdatatype.A))
    other = dns.name.from_text("x." + reg.fulldomain + ".")
    assert not may_change(identity, Door.ACME_DNS, other, TXT)
    assert not may_change(identity, Door.ACME_DNS, ZONE, TXT)


def test_wrong_password_unknown_user_and_other_networks_are_refused(store: Store) -> None:
    reg = acme_accounts.register(store, ZONE, parse_networks(["192.0.2.0/24"]))
    assert reg.allowfrom == ("192.0.2.0/24",)
    assert not isinstance(acme_accounts.check(store, reg.username, reg.password, INSIDE), Refused)
    assert isinstance(acme_accounts.check(store, reg.username, reg.password, OUTSIDE), Refused)
    assert isinstance(acme_accounts.check(store, reg.username, reg.password + "x", INSIDE), Refused)
    assert isinstance(acme_accounts.check(store, reg.subdomain, reg.password, INSIDE), Refused)
    assert isinstance(acme_accounts.check(store, "admin", reg.password, INSIDE), Refused)


def test_accounts_are_listed_and_removed(store: Store) -> None:
    one = acme_accounts.register(store, ZONE, parse_networks(["2001:db8::/48"]))
    two = acme_accounts.register(store, ZONE)
    listed = {a.username: a for a in acme_accounts.all_accounts(store)}
    assert set(listed) == {one.username, two.username}
    assert [str(n) for n in listed[one.username].allowfrom] == ["2001:db8::/48"]
    acme_accounts.remove(store, one.username)
    assert [a.username for a in acme_accounts.all_accounts(store)] == [two.username]
    assert isinstance(acme_accounts.check(store, one.username, one.password, INSIDE), Refused)
    with pytest.raises(acme_accounts.AccountError, match="no acme-dns account"):
        acme_accounts.remove(store, one.username)
