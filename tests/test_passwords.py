"""Stored passwords: argon2 for chosen ones, a keyed hash for generated ones."""

from __future__ import annotations

import argon2

from dynzone import passwords


def test_a_generated_secret_is_stored_as_a_keyed_hash_and_checked_cheaply() -> None:
    secret = passwords.new_secret()
    stored = passwords.store_generated(secret)
    assert stored.startswith(passwords.GENERATED) and secret not in stored
    assert not passwords.costly(stored)
    assert passwords.matches(stored, secret)
    assert not passwords.matches(stored, secret + "x")
    assert passwords.store_generated(secret) != stored  # salted


def test_a_chosen_password_is_argon2_and_old_hashes_keep_working() -> None:
    stored = passwords.store_chosen("correct horse")
    assert stored.startswith("$argon2id$") and passwords.costly(stored)
    assert passwords.matches(stored, "correct horse")
    assert not passwords.matches(stored, "wrong horse")
    old = argon2.PasswordHasher().hash("from an older dynzone")
    assert passwords.matches(old, "from an older dynzone")


def test_a_damaged_stored_value_matches_nothing() -> None:
    assert not passwords.matches(passwords.GENERATED + "!!$!!", "x")
    assert not passwords.matches("$argon2id$garbage", "x")
