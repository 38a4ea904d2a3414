"""HTTP users: names, argon2-hashed passwords, and host grants.

A user is the identity ``user:NAME``. Its password is stored only as an
argon2 hash; a generated password is shown once and never again.
"""

from __future__ import annotations

import secrets

import argon2

from dynzone.policy import Grant, Identity
from dynzone.store.base import Store

PREFIX = "user:"

_hasher = argon2.PasswordHasher()


class UserError(Exception):
    """A user command that cannot be done; the message says why."""


def new_password() -> str:
    return secrets.token_urlsafe(18)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def add_user(store: Store, name: str, password: str, grants: list[Grant]) -> None:
    if not name or ":" in name or any(c.isspace() for c in name):
        raise UserError(f"{name!r} is not a usable user name (no spaces or colons)")
    if not password:
        raise UserError("the password is empty")
    hashed = hash_password(password)
    with store.write() as txn:
        if txn.identity(PREFIX + name) is not None:
            raise UserError(f"user {name} already exists (use `dynzone user passwd {name}`)")
        txn.add_identity(PREFIX + name, hashed, grants)


def set_password(store: Store, name: str, password: str) -> None:
    if not password:
        raise UserError("the password is empty")
    hashed = hash_password(password)
    with store.write() as txn:
        if not txn.set_secret(PREFIX + name, hashed):
            raise UserError(f"no user {name}")


def remove_user(store: Store, name: str) -> None:
    with store.write() as txn:
        if not txn.remove_identity(PREFIX + name):
            raise UserError(f"no user {name}")


def verify(store: Store, name: str, password: str) -> Identity | None:
    """The user's identity if the password is right, else None (argon2: ~50 ms)."""
    found = store.identity(PREFIX + name)
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
