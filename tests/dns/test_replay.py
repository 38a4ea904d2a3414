"""The TSIG replay guard: once per MAC while it is inside the fudge, whatever the clocks."""

from __future__ import annotations

from dynzone.dns.replay import ReplayGuard
from dynzone.dns.tsig import FUDGE


def test_a_mac_is_claimed_once_and_its_repeats_get_the_first_reply() -> None:
    guard = ReplayGuard()
    assert guard.claim("k", b"mac1", 1000, 1000) is True
    assert guard.claim("k", b"mac1", 1000, 1001) is False  # still being committed
    guard.answered("k", b"mac1", b"reply")
    assert guard.claim("k", b"mac1", 1000, 1002) == b"reply"


def test_clients_with_skewed_clocks_can_share_one_key() -> None:
    guard = ReplayGuard()
    assert guard.claim("k", b"ahead", 1200, 1000) is True
    assert guard.claim("k", b"behind", 800, 1000) is True  # older time, new MAC: fine
    assert guard.claim("other", b"ahead", 1200, 1000) is True  # keys are apart


def test_macs_are_forgotten_once_outside_the_fudge_and_beyond_the_cap() -> None:
    guard = ReplayGuard(max_per_key=2)
    guard.claim("k", b"old", 1000, 1000)
    assert guard.claim("k", b"x", 2000, 1000 + FUDGE + 1) is True
    assert b"old" not in guard._seen["k"]
    guard.claim("k", b"y", 2000, 2000)
    guard.claim("k", b"z", 2000, 2000)
    assert len(guard._seen["k"]) <= 2
