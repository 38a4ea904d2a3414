"""HTTP users: names, argon2-hashed passwords, and host grants.

A user is the identity ``user:NAME``. Its password is stored only as an
argon2 hash; a generated password is shown once and never again.
"""

from __future__ import annotations

import secrets
import sqlite3

import argon2
import dns.rdatatype

from dynzone.policy import Grant, Identity
from dynzone.store import identities
from dynzone.store.sqlite import transaction

PREFIX = "user:"
# The records a dyndns2 update may write, unless a grant lists types itself.
ADDRESS_TYPES = frozenset({int(dns.rdatatype.A), int(dns.rdatatype.AAAA)})

_hasher = argon2.PasswordHasher()


class UserError(Exception):
    """A user command that cannot be done; the message says why."""


def new_password() -> str:
    return secrets.token_urlsafe(18)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def add_user(conn: sqlite3.Connection, name: str, password: str, grants: list[Grant]) -> None:
    if not name or ":" in name or any(c.isspace() for c in name):
        raise UserError(f"{name!r} is not a usable user name (no spaces or colons)")
    if not password:
        raise UserError("the password is empty")
    hashed = hash_password(password)
    with transaction(conn):
        if identities.get(conn, PREFIX + name) is not None:
            raise UserError(f"user {name} already exists (use `dynzone user passwd {name}`)")
        identities.add(conn, PREFIX + name, hashed, grants)


def set_password(conn: sqlite3.Connection, name: str, password: str) -> None:
    if not password:
        raise UserError("the password is empty")
    hashed = hash_password(password)
    with transaction(conn):
        if not identities.set_secret(conn, PREFIX + name, hashed):
            raise UserError(f"no user {name}")


def remove_user(conn: sqlite3.Connection, name: str) -> None:
    with transaction(conn):
        if not identities.remove(conn, PREFIX + name):
            raise UserError(f"no user {name}")


def verify(conn: sqlite3.Connection, name: str, password: str) -> Identity | None:
    """The user's identity if the password is right, else None (argon2: ~50 ms)."""
    found = identities.get(conn, PREFIX + name)
    if found is None:
        # Spend the same effort as a real check, so timing does not tell
        # which user names exist.
        _hasher.hash(password)
        return None
    hashed, identity = found
    try:
        _hasher.verify(hashed, password)
    except argon2.exceptions.VerificationError:
        return None
    except argon2.exceptions.InvalidHashError:
        return None
    return identity
