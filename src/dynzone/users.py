"""HTTP users: names, stored passwords (see passwords.py), and host grants.

A user is the identity ``user:NAME``. Its password is stored only hashed: as
argon2 when a person chose it, as a keyed hash when dynzone generated it
(shown once and never again).
"""

from __future__ import annotations

from dynzone import passwords
from dynzone.policy import Grant, Identity
from dynzone.store.base import Store

PREFIX = "user:"


class UserError(Exception):
    """A user command that cannot be done; the message says why."""


def new_password() -> str:
    return passwords.new_secret()


def stored_form(password: str, generated: bool) -> str:
    return passwords.store_generated(password) if generated else passwords.store_chosen(password)


def add_user(
    store: Store, name: str, password: str, grants: list[Grant], generated: bool = False
) -> None:
    if not name or ":" in name or any(c.isspace() for c in name):
        raise UserError(f"{name!r} is not a usable user name (no spaces or colons)")
    if not password:
        raise UserError("the password is empty")
    hashed = stored_form(password, generated)
    with store.write() as txn:
        if txn.identity(PREFIX + name) is not None:
            raise UserError(f"user {name} already exists (use `dynzone user passwd {name}`)")
        txn.add_identity(PREFIX + name, hashed, grants)


def set_password(store: Store, name: str, password: str, generated: bool = False) -> None:
    if not password:
        raise UserError("the password is empty")
    hashed = stored_form(password, generated)
    with store.write() as txn:
        if not txn.set_secret(PREFIX + name, hashed):
            raise UserError(f"no user {name}")


def remove_user(store: Store, name: str) -> None:
    with store.write() as txn:
        if not txn.remove_identity(PREFIX + name):
            raise UserError(f"no user {name}")


def lookup(store: Store, name: str) -> tuple[str, Identity] | None:
    """The user's stored password and identity, or None."""
    return store.identity(PREFIX + name)


def verify(store: Store, name: str, password: str) -> Identity | None:
    """The user's identity if the password is right, else None (argon2: ~0.1 s)."""
    found = lookup(store, name)
    if found is None:
        passwords.waste(password)
        return None
    stored, identity = found
    return identity if passwords.matches(stored, password) else None
