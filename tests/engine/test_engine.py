"""The engine's seams: when a commit is served, who hears of it, and what a refusal leaves."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.name
import dns.rdata
import dns.rdatatype
import pytest

from dynzone.dns.responder import Responder
from dynzone.engine.changeset import (
    AddRecord,
    ChangeRejected,
    ChangeSet,
    Outcome,
    SetRRset,
    ZoneChange,
)
from dynzone.engine.engine import Engine, Published
from dynzone.engine.settings import ZoneSettings
from dynzone.store import open_store
from dynzone.zones.sync import bring_in_line

A = dns.rdatatype.A


def n(text: str) -> dns.name.Name:
    return dns.name.from_text(text)


def zone(name: str) -> ZoneSettings:
    return ZoneSettings(n(name), ns=(n(f"ns1.{name}."),), email=f"hostmaster@{name}")


def set_a(name: str, address: str, zone_name: str = "a.test.") -> ChangeSet:
    op = SetRRset(n(name), A, 60, (dns.rdata.from_text("IN", "A", address),))
    return ChangeSet("test", "-", (ZoneChange(n(zone_name), (op,)),))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    zones = (zone("a.test"), zone("b.test"))
    engine = Engine(open_store(tmp_path), zones, lambda: open_store(tmp_path))
    bring_in_line(engine, zones, strict=True)
    yield engine
    engine.close()


def answer(responder: Responder, name: str) -> list[str]:
    reply = responder.respond(dns.message.make_query(name, "A").to_wire())
    assert isinstance(reply, bytes)
    return [rd.to_text() for rrset in dns.message.from_wire(reply).answer for rd in rrset]


def test_a_commit_is_served_before_it_returns(engine: Engine) -> None:
    responder = Responder(engine.catalog)
    engine.on_swap(responder.use)
    events: list[str] = []
    engine.on_swap(lambda _catalog: events.append(threading.current_thread().name))

    async def run() -> None:
        assert answer(responder, "h.a.test") == []  # cached: the empty answer
        await engine.commit(set_a("h.a.test.", "192.0.2.1"))
        events.append("returned")
        # The very next query, from the cache that held the old answer, is new.
        assert answer(responder, "h.a.test") == ["192.0.2.1"]

    asyncio.run(run())
    assert events[-2:][0].startswith("dynzone-writer") and events[-1] == "returned"


def test_submit_calls_done_once_the_change_is_served(engine: Engine) -> None:
    responder = Responder(engine.catalog)
    engine.on_swap(responder.use)
    seen: list[object] = []
    done = threading.Event()

    def finished(outcomes: list[Outcome] | None, error: BaseException | None) -> None:
        seen.extend([outcomes is not None and outcomes[0].changed, error])
        seen.append(answer(responder, "h.a.test"))
        done.set()

    engine.submit(set_a("h.a.test.", "192.0.2.7"), finished)
    assert done.wait(10)
    assert seen == [True, None, ["192.0.2.7"]]


def test_each_subscriber_runs_once_per_commit_that_changes_zones(engine: Engine) -> None:
    heard: dict[str, list[Published]] = {"one": [], "two": []}
    engine.on_commit(heard["one"].append)
    engine.on_commit(heard["two"].append)
    engine.commit_now(set_a("h.a.test.", "192.0.2.1"))
    engine.commit_now(set_a("h.a.test.", "192.0.2.1"))  # changes nothing: no one is told
    both = ChangeSet(
        "test",
        "-",
        (
            ZoneChange(n("a.test."), (AddRecord(n("x.a.test."), 60, _a("192.0.2.2")),)),
            ZoneChange(n("b.test."), (AddRecord(n("x.b.test."), 60, _a("192.0.2.3")),)),
        ),
    )
    engine.commit_now(both)
    for name, events in heard.items():
        assert [sorted(str(z.origin) for z in e.zones) for e in events] == [
            ["a.test."],
            ["a.test.", "b.test."],
        ], name
        assert all(e.when is not None for e in events)


def _a(address: str) -> dns.rdata.Rdata:
    return dns.rdata.from_text("IN", "A", address)


def test_a_refused_change_writes_and_publishes_nothing(engine: Engine) -> None:
    responder = Responder(engine.catalog)
    engine.on_swap(responder.use)
    engine.commit_now(set_a("h.a.test.", "192.0.2.1"))
    answer(responder, "h.a.test")  # cached now
    catalog, cached = engine.catalog, dict(engine.catalog.cache)
    swaps: list[object] = []
    told: list[Published] = []
    engine.on_swap(swaps.append)
    engine.on_commit(told.append)
    swaps.clear()
    journal = engine.store.journal(n("a.test."))
    clash = ChangeSet(
        "test",
        "-",
        (
            ZoneChange(n("a.test."), (SetRRset(n("new.a.test."), A, 60, (_a("192.0.2.9"),)),)),
            ZoneChange(
                n("b.test."),
                (
                    AddRecord(n("c.b.test."), 60, dns.rdata.from_text("IN", "CNAME", "x.b.test.")),
                    AddRecord(n("c.b.test."), 60, _a("192.0.2.6")),
                ),
            ),
        ),
    )
    with pytest.raises(ChangeRejected):
        engine.commit_now(clash)
    assert engine.catalog is catalog and swaps == [] and told == []
    assert dict(engine.catalog.cache) == cached
    assert engine.store.journal(n("a.test.")) == journal
    assert answer(responder, "new.a.test") == []


def test_a_commit_after_another_process_wrote_serves_both_changes(
    engine: Engine, tmp_path: Path
) -> None:
    responder = Responder(engine.catalog)
    engine.on_swap(responder.use)
    other = Engine(open_store(tmp_path), engine.settings, lambda: open_store(tmp_path))
    try:
        other.commit_now(set_a("far.a.test.", "192.0.2.44"))
    finally:
        other.close()
    # No follow() first: the commit finds the store ahead of our snapshot,
    # reads the zone from the store and catches up through the journal.
    engine.commit_now(set_a("near.a.test.", "192.0.2.45"))
    assert answer(responder, "near.a.test") == ["192.0.2.45"]
    assert answer(responder, "far.a.test") == ["192.0.2.44"]
    engine.commit_now(set_a("far.a.test.", "192.0.2.46"))
    assert answer(responder, "far.a.test") == ["192.0.2.46"]


def test_changes_another_process_commits_are_followed(engine: Engine, tmp_path: Path) -> None:
    responder = Responder(engine.catalog)
    engine.on_swap(responder.use)
    assert answer(responder, "far.a.test") == []
    assert answer(responder, "near.a.test") == []
    other = Engine(open_store(tmp_path), engine.settings, lambda: open_store(tmp_path))
    try:
        other.commit_now(set_a("far.a.test.", "192.0.2.44"))
    finally:
        other.close()
    entries = dict(engine.catalog.cache)
    engine.follow()
    # Only what the change could affect was retired...
    assert set(entries) - set(engine.catalog.cache) == {k for k in entries if b"\x03far" in k}
    # ...and the next query gets the change.
    assert answer(responder, "far.a.test") == ["192.0.2.44"]
    # Our own next commit follows on from there.
    engine.commit_now(set_a("near.a.test.", "192.0.2.45"))
    assert answer(responder, "near.a.test") == ["192.0.2.45"]
    assert answer(responder, "far.a.test") == ["192.0.2.44"]


def test_what_commits_and_reloads_replace_is_freed_without_the_cyclic_collector(
    engine: Engine,
) -> None:
    # server.py freezes the heap once zones are loaded: anything replaced later
    # must go by reference counting alone, or it would never be freed.
    import gc

    responder = Responder(engine.catalog)
    engine.on_swap(responder.use)
    gc.collect()
    gc.disable()
    try:
        gc.set_debug(gc.DEBUG_SAVEALL)
        for i in range(5):
            engine.commit_now(set_a(f"h{i}.a.test.", f"192.0.2.{i + 1}"))
            answer(responder, f"h{i}.a.test")
        engine.serve([n("a.test.")])  # the set of zones changes: a new cache
        engine.commit_now(set_a("h9.a.test.", "192.0.2.99"))
        engine.serve([n("a.test."), n("b.test.")])
        gc.collect()
        kinds = {type(o).__name__ for o in gc.garbage}
        assert not kinds & {"ZoneSnapshot", "Catalog", "AnswerCache", "Node", "RRset", "NodeMap"}
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
        gc.enable()


def test_dynamic_ttl_is_the_zones_setting_or_the_default(tmp_path: Path) -> None:
    zones = (
        ZoneSettings(
            dns.name.from_text("a.test."),
            ns=(dns.name.from_text("ns1.a.test."),),
            email="h@a.test",
            dynamic_ttl=17,
        ),
    )
    engine = Engine(open_store(tmp_path), zones, lambda: open_store(tmp_path))
    try:
        assert engine.dynamic_ttl(dns.name.from_text("a.test.")) == 17
        assert engine.dynamic_ttl(dns.name.from_text("b.test.")) == ZoneSettings.dynamic_ttl
    finally:
        engine.close()
