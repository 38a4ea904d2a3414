"""acme-dns accounts: identities ``acme:USERNAME`` that may set TXT values at one name.

An account is what acme-dns's ``/register`` hands out: a username and a
password (both generated; the password is stored as a salted keyed hash,
passwords.py), a subdomain, and its full name in the acme-dns zone, the
name a certificate's ``_acme-challenge`` CNAME points at. The account's one
grant is that name, type TXT, so it is checked by the same access module as
every other identity; ``allowfrom`` limits where it may be used from.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import dns.name
import dns.rdatatype

from dynzone import passwords
from dynzone.policy import Grant, Identity
from dynzone.store.base import Store
from dynzone.tokens import Address, Network, Refused, check_secret, parse_networks

PREFIX = "acme:"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_TXT = frozenset({int(dns.rdatatype.TXT)})


@dataclass(frozen=True)
class Registration:
    """A new account as acme-dns's ``/register`` answers it (the password only now)."""

    username: str
    password: str
    subdomain: str
    fulldomain: str
    allowfrom: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "password": self.password,
            "fulldomain": self.fulldomain,
            "subdomain": self.subdomain,
            "allowfrom": list(self.allowfrom),
        }


@dataclass(frozen=True)
class Account:
    """A registered account: its name, its one TXT name, and its networks."""

    username: str
    fulldomain: dns.name.Name
    allowfrom: tuple[Network, ...]
    created: float

    @property
    def subdomain(self) -> str:
        return subdomain_of(self.fulldomain)


def subdomain_of(fulldomain: dns.name.Name) -> str:
    """The subdomain of an account's TXT name (its first label)."""
    return fulldomain.labels[0].decode()


def valid_subdomain(text: str) -> bool:
    """An account's subdomain as acme-dns makes them: a UUID in lower case."""
    return bool(_UUID.match(text))


def register(
    store: Store, zone: dns.name.Name, allowfrom: tuple[Network, ...] = ()
) -> Registration:
    """Create an account whose TXT name is a new subdomain of ``zone``."""
    username = str(uuid.uuid4())
    subdomain = str(uuid.uuid4())
    password = secrets.token_urlsafe(30)  # 40 characters, as acme-dns's
    fulldomain = dns.name.Name((subdomain.encode(), *zone.labels))
    with store.write() as txn:
        txn.add_identity(
            PREFIX + username,
            passwords.store_generated(password),
            [Grant(fulldomain.to_text().lower(), _TXT)],
            origin="acme-dns",
            allow_from=" ".join(str(n) for n in allowfrom),
        )
    return Registration(
        username,
        password,
        subdomain,
        fulldomain.to_text(omit_final_dot=True),
        tuple(str(n) for n in allowfrom),
    )


def check(
    store: Store, username: str, password: str, client: Address, now: float | None = None
) -> tuple[Identity, dns.name.Name] | Refused:
    """The account's identity and TXT name, if the password is right and ``client``
    is in its ``allowfrom``."""
    if not _UUID.match(username):
        return Refused("not an acme-dns username")
    found = check_secret(store, PREFIX, username, password, client, now, "acme-dns account")
    if isinstance(found, Refused):
        return found
    name = _txt_name(found.grants)
    if name is None:
        return Refused(f"acme-dns account {username} has no TXT name")
    return found, name


def _txt_name(grants: tuple[Grant, ...]) -> dns.name.Name | None:
    """The one name an account's grants let it set TXT values at."""
    for grant in grants:
        if grant.types == _TXT and not grant.pattern.startswith(("*.", "regex:")):
            return dns.name.from_text(grant.pattern)
    return None


def all_accounts(store: Store) -> list[Account]:
    out = []
    for row in store.identities(PREFIX):
        name = _txt_name(store.grants(row.name))
        if name is not None:
            networks = parse_networks(row.allow_from.split())
            out.append(Account(row.name[len(PREFIX) :], name, networks, row.created))
    return out


class AccountError(Exception):
    """An acme-dns account command that cannot be done; the message says why."""


def remove(store: Store, username: str) -> None:
    with store.write() as txn:
        if not txn.remove_identity(PREFIX + username):
            raise AccountError(f"no acme-dns account {username}")
