"""SOA serial numbers: the per-zone policies, RFC 1982 serial arithmetic, and
SOA records told apart by, or given, another serial.

A serial never goes backwards: whatever the policy proposes, the result is
greater than the current serial in RFC 1982 terms, or secondaries would
ignore the change.
"""

from __future__ import annotations

import time

import dns.rdata

POLICIES = ("increment", "unixtime", "date")
_HALF = 1 << 31
_MOD = 1 << 32


def serial_gt(a: int, b: int) -> bool:
    """True if serial ``a`` is greater than ``b`` (RFC 1982 §3.2)."""
    return (a < b and b - a > _HALF) or (a > b and a - b < _HALF)


def next_serial(current: int, policy: str, now: float | None = None) -> int:
    """The serial to use after ``current`` under ``policy``."""
    if now is None:
        now = time.time()
    if policy == "unixtime":
        proposal = int(now) % _MOD
    elif policy == "date":
        proposal = int(time.strftime("%Y%m%d", time.gmtime(now))) * 100
    elif policy == "increment":
        proposal = current + 1
    else:
        raise ValueError(f"unknown serial policy {policy!r}")
    proposal %= _MOD
    if serial_gt(proposal, current):
        return proposal
    return (current + 1) % _MOD


def at_least(serial: int, floor: int) -> int:
    """``serial``, or ``floor`` if that is greater (a zone file asked for it)."""
    return floor if serial_gt(floor, serial) else serial


def soa_fields(rd: dns.rdata.Rdata) -> tuple[object, ...]:
    """An SOA's fields but the serial (comparing Rdata objects costs a wire encoding)."""
    return rd.mname, rd.rname, rd.refresh, rd.retry, rd.expire, rd.minimum  # type: ignore[attr-defined]
