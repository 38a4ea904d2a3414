"""Handed-off work (UPDATE, NOTIFY, transfers, signed messages) is bounded."""

from __future__ import annotations

from dynzone.dns.handoff import InFlight


def test_handed_off_work_is_bounded_per_source_and_in_all() -> None:
    inflight = InFlight(per_source=2, in_all=3)
    assert inflight.enter("192.0.2.1") and inflight.enter("192.0.2.1")
    assert not inflight.enter("192.0.2.1")  # a third from one source waits for none: dropped
    assert inflight.enter("192.0.2.2")
    assert not inflight.enter("192.0.2.3")  # the whole server is at its bound
    inflight.leave("192.0.2.1")
    assert inflight.enter("192.0.2.3")
    assert inflight.refused == 2
