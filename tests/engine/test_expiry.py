"""Records that end: set with the change that adds them, deleted by the sweeper
through the engine once due, never while renewed, and kept across a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import dns.name
import dns.rdata
import dns.rdatatype

from dynzone.engine.changeset import AddRecord, ChangeSet, ZoneChange
from dynzone.engine.engine import Engine
from dynzone.engine.expiry import IDENTITY, Sweeper
from dynzone.store import open_store
from dynzone.store.base import Expired, Store, ZoneWrite
from tests.engine.test_commit import serving

NAME = dns.name.from_text("_acme.a.test.")
ZONE = dns.name.from_text("a.test.")


def txt(value: str) -> dns.rdata.Rdata:
    return dns.rdata.from_text("IN", "TXT", f'"{value}"')


def add_until(value: str, expires: float) -> ChangeSet:
    rdata = txt(value)

    def remember(write: ZoneWrite) -> None:
        write.set_expiry(NAME, rdata, expires)

    change = ZoneChange(ZONE, (AddRecord(NAME, 60, rdata),), after=remember)
    return ChangeSet("acme:test", "192.0.2.1", (change,))


def served(engine: Engine) -> set[str]:
    snapshot = engine.snapshot(ZONE)
    assert snapshot is not None
    return {rd.to_text() for rr in snapshot.rrsets() if rr.name == NAME for rd in rr}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def sweeper(engine: Engine, reader: Store, clock: Clock) -> Sweeper:
    async def read(work: Callable[[Store], list[Expired]]) -> list[Expired]:
        return work(reader)

    return Sweeper(engine.commit, read, clock)


def test_a_due_record_is_deleted_and_a_later_one_stays(tmp_path: Path) -> None:
    engine = serving(tmp_path)
    reader = open_store(tmp_path)
    clock = Clock()
    sweep = sweeper(engine, reader, clock)

    async def run() -> None:
        await engine.commit(add_until("early", 1010.0))
        await engine.commit(add_until("late", 1100.0))
        assert served(engine) == {'"early"', '"late"'}
        assert await sweep.sweep() == 0  # nothing due yet
        clock.now = 1010.0
        assert await sweep.sweep() == 1
        assert served(engine) == {'"late"'}
        assert await sweep.sweep() == 0  # its end time went with it
        clock.now = 2000.0
        assert await sweep.sweep() == 1
        assert served(engine) == set()

    asyncio.run(run())
    entries = reader.journal(ZONE)
    assert [e.identity for e in entries[-2:]] == [IDENTITY, IDENTITY]
    engine.close()
    reader.close()


def test_setting_a_value_again_moves_its_end_time(tmp_path: Path) -> None:
    engine = serving(tmp_path)
    reader = open_store(tmp_path)
    clock = Clock()
    sweep = sweeper(engine, reader, clock)

    async def run() -> None:
        await engine.commit(add_until("value", 1010.0))
        await engine.commit(add_until("value", 1500.0))
        clock.now = 1200.0
        assert await sweep.sweep() == 0
        assert served(engine) == {'"value"'}

    asyncio.run(run())
    engine.close()
    reader.close()


def test_end_times_outlive_a_restart(tmp_path: Path) -> None:
    engine = serving(tmp_path)

    async def add() -> None:
        await engine.commit(add_until("kept", 1010.0))

    asyncio.run(add())
    engine.close()
    store = open_store(tmp_path)
    assert [(e.name, e.rdata.to_text(), e.expires) for e in store.expired(1010.0)] == [
        (NAME, '"kept"', 1010.0)
    ]
    assert store.expired(1009.0) == []
    store.close()
