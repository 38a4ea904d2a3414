"""API tokens: identities ``token:NAME`` for the HTTP APIs, with the same grants
as users and TSIG keys, limited to client networks and expiring if asked.

A token's key is ``NAME.SECRET``: the name says which token it claims to be
(an API request carries nothing else), the secret is 32 random bytes that
dynzone generated. It is shown once and stored as a salted keyed hash
(passwords.py): with that many random bits no guess can succeed however
fast the check, so checking costs microseconds, not argon2's 0.1 s.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import time
from dataclasses import dataclass

import dns.ttl

from dynzone import passwords
from dynzone.policy import Grant, Identity
from dynzone.store.base import IdentityRow, Store

PREFIX = "token:"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TokenError(Exception):
    """A token command that cannot be done; the message says why."""


@dataclass(frozen=True)
class Token:
    """A token as listed: its grants, networks and expiry (no secret)."""

    name: str
    grants: tuple[Grant, ...]
    allow_from: tuple[Network, ...]  # empty: any client
    expires: float | None  # Unix time; None: never
    created: float

    def expired(self, now: float) -> bool:
        return self.expires is not None and now >= self.expires


def parse_networks(texts: list[str], option: str = "--from") -> tuple[Network, ...]:
    """``--from`` values (or ``option``'s): networks (``192.0.2.0/24``,
    ``2001:db8::/32``) or addresses."""
    out = []
    for text in texts:
        try:
            out.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise TokenError(
                f"{option} {text!r} is not a network or address (e.g. 192.0.2.0/24, 2001:db8::/48)"
            ) from None
    return tuple(out)


def parse_duration(text: str) -> int:
    """``--expires`` as seconds: ``3600``, ``90d``, ``12h``, ``1w2d``..."""
    try:
        seconds = dns.ttl.from_text(text.strip())
    except dns.ttl.BadTTL:
        seconds = 0
    if seconds <= 0:
        raise TokenError(
            f"--expires {text!r} is not a duration: a number of seconds, or with units"
            " s, m, h, d, w (e.g. 90d, 12h, 1w2d)"
        )
    return seconds


def add_token(
    store: Store,
    name: str,
    grants: list[Grant],
    allow_from: tuple[Network, ...] = (),
    lifetime: int | None = None,
    now: float | None = None,
) -> str:
    """Create the token ``name``; returns its key, which is not kept anywhere."""
    if not _NAME.match(name):
        raise TokenError(
            f"{name!r} is not a usable token name: up to 64 letters, digits, '-' or '_'"
        )
    secret = secrets.token_urlsafe(32)
    expires = None if lifetime is None else (time.time() if now is None else now) + lifetime
    with store.write() as txn:
        if txn.identity(PREFIX + name) is not None:
            raise TokenError(f"token {name} already exists (remove it first to replace it)")
        txn.add_identity(
            PREFIX + name,
            passwords.store_generated(secret),
            grants,
            allow_from=" ".join(str(n) for n in allow_from),
            expires=expires,
        )
    return f"{name}.{secret}"


def remove_token(store: Store, name: str) -> None:
    with store.write() as txn:
        if not txn.remove_identity(PREFIX + name):
            raise TokenError(f"no token {name}")


def _token(row: IdentityRow, grants: tuple[Grant, ...]) -> Token:
    return Token(
        row.name[len(PREFIX) :],
        grants,
        parse_networks(row.allow_from.split()),
        row.expires,
        row.created,
    )


def all_tokens(store: Store) -> list[Token]:
    return [_token(row, store.grants(row.name)) for row in store.identities(PREFIX)]


@dataclass(frozen=True)
class Refused:
    """Why a key was not accepted (for the log; a client is told only "forbidden")."""

    reason: str


def check_key(
    store: Store, key: str, client: Address, now: float | None = None
) -> Identity | Refused:
    """The identity of the token whose key is ``key``, if it is right, has not
    expired and is used from one of its networks."""
    name, dot, secret = key.strip().partition(".")
    if not dot or not _NAME.match(name) or not secret:
        return Refused("not a dynzone token key (NAME.SECRET)")
    return check_secret(store, PREFIX, name, secret, client, now, "token")


def check_secret(
    store: Store,
    prefix: str,
    name: str,
    secret: str,
    client: Address,
    now: float | None = None,
    what: str = "token",
) -> Identity | Refused:
    """The identity ``prefix + name`` if ``secret`` is its generated secret, it has
    not expired and ``client`` is in its networks (tokens, acme-dns accounts)."""
    found = store.identity(prefix + name)
    row = store.identity_row(prefix + name)
    if found is None or row is None:
        return Refused(f"no {what} {name}")
    stored, identity = found
    if not passwords.matches(stored, secret):
        return Refused(f"wrong secret for {what} {name}")
    token = _token(row, identity.grants)
    if token.expired(time.time() if now is None else now):
        return Refused(f"{what} {name} has expired")
    if token.allow_from and not any(client in network for network in token.allow_from):
        return Refused(f"{what} {name} may not be used from {client}")
    return identity
