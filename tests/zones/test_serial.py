"""Serial policies and RFC 1982 arithmetic."""

from __future__ import annotations

import calendar

import pytest

from dynzone.zones.serial import at_least, next_serial, serial_gt

NOV_22 = calendar.timegm((2026, 11, 22, 12, 0, 0))


def test_rfc1982_comparison_wraps_around() -> None:
    assert serial_gt(2, 1) and not serial_gt(1, 2)
    assert serial_gt(0, 0xFFFFFFFF)  # 0 follows 2^32-1
    assert serial_gt(5, 2**32 - 10)
    assert not serial_gt(7, 7)


def test_increment_wraps_to_zero() -> None:
    assert next_serial(41, "increment") == 42
    assert next_serial(0xFFFFFFFF, "increment") == 0


def test_date_policy_counts_within_a_day_and_never_goes_back() -> None:
    assert next_serial(1, "date", NOV_22) == 2026112200
    assert next_serial(2026112200, "date", NOV_22) == 2026112201
    # A serial already ahead of today's date keeps counting up.
    assert next_serial(2026123105, "date", NOV_22) == 2026123106


def test_unixtime_policy_never_goes_back() -> None:
    assert next_serial(5, "unixtime", NOV_22) == NOV_22
    assert next_serial(NOV_22 + 100, "unixtime", NOV_22) == NOV_22 + 101


def test_a_zone_file_may_only_push_the_serial_forward() -> None:
    assert at_least(10, 50) == 50
    assert at_least(50, 10) == 50


def test_unknown_policy_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown serial policy"):
        next_serial(1, "weekly")
