"""How a secret is stored, and checked: argon2 when a human chose it, a keyed
hash when dynzone generated it.

A password someone typed may be guessable, so it is stored as argon2id,
which makes each guess cost (about 0.1 s of CPU). A password dynzone
generated (``user add`` or ``user passwd`` without ``--password-stdin``, the
demo user) has 144 random bits: nobody can guess it however fast the check,
so it is stored as a salted HMAC-SHA256 and checked in microseconds. Stored
values say which they are; argon2 hashes from before keep working.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

import argon2

GENERATED = "$dz-hmac-sha256$"
_argon2 = argon2.PasswordHasher()


def new_secret() -> str:
    """A generated password: 18 random bytes, URL-safe text."""
    return secrets.token_urlsafe(18)


def store_chosen(password: str) -> str:
    """The stored form of a password a person chose (argon2id)."""
    return _argon2.hash(password)


def store_generated(secret: str) -> str:
    """The stored form of a secret dynzone generated (salted HMAC-SHA256)."""
    salt = os.urandom(16)
    mac = hmac.new(salt, secret.encode(), hashlib.sha256).digest()
    return GENERATED + _b64(salt) + "$" + _b64(mac)


def costly(stored: str) -> bool:
    """Whether checking against ``stored`` takes argon2's deliberate work."""
    return not stored.startswith(GENERATED)


def matches(stored: str, password: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from."""
    if stored.startswith(GENERATED):
        salt_text, _, mac_text = stored[len(GENERATED) :].partition("$")
        try:
            salt, mac = _unb64(salt_text), _unb64(mac_text)
        except ValueError:
            return False
        return hmac.compare_digest(hmac.new(salt, password.encode(), hashlib.sha256).digest(), mac)
    try:
        return _argon2.verify(stored, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def waste(password: str) -> None:
    """The work of a costly check against nothing (an unknown user), so that the
    time taken does not tell which user names exist."""
    _argon2.hash(password)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
