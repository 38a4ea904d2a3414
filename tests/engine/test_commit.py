"""The engine's commit path against a real SQLite store: atomic, journaled,
serial-bumped, and served by the time it returns."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path

import dns.name
import dns.rdata
import dns.rdatatype
import pytest

from dynzone.engine import apply
from dynzone.engine.changeset import (
    AddRecord,
    ChangeRejected,
    ChangeSet,
    DeleteRRset,
    NewZone,
    SetRRset,
    ZoneChange,
    ZoneEdit,
)
from dynzone.engine.engine import Engine
from dynzone.engine.settings import ZoneSettings
from dynzone.metrics import REGISTRY
from dynzone.store import open_store
from dynzone.zones.node import Node
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.sync import bring_in_line
from dynzone.zones.zone_rows import ZoneRows
from dynzone.zones.zonefile import Record, read_zone_text

A = dns.rdatatype.A


def n(text: str) -> dns.name.Name:
    return dns.name.from_text(text)


def rd(rdtype: str, text: str) -> dns.rdata.Rdata:
    return dns.rdata.from_text("IN", rdtype, text)


def zone_settings(name: str, **more: object) -> ZoneSettings:
    return ZoneSettings(n(name), ns=(n(f"ns1.{name}."),), email=f"hostmaster@{name}", **more)  # type: ignore[arg-type]


def serving(tmp_path: Path) -> Engine:
    """An engine serving a.test (journal_limit 3) and b.test, both built from settings."""
    zones = (zone_settings("a.test", journal_limit=3), zone_settings("b.test"))
    engine = Engine(open_store(tmp_path), zones, lambda: open_store(tmp_path))
    bring_in_line(engine, zones, strict=True)
    return engine


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Engine]:
    engine = serving(tmp_path)
    yield engine
    engine.close()


def stored(w: Engine, zone: str) -> set[str]:
    found = w.store.load_zone(n(zone))
    assert found is not None
    return {f"{r.name} {r.ttl} {r.rdata.rdtype.name} {r.rdata}" for r in found.records}


def test_a_commit_writes_records_bumps_the_serial_and_journals(writer: Engine) -> None:
    op = SetRRset(n("h.a.test."), A, 60, (rd("A", "192.0.2.1"),))
    [out] = writer.commit_now(ChangeSet("user:x", "192.0.2.9", (ZoneChange(n("a.test."), (op,)),)))
    assert out.changed and out.serial_to == out.serial_from + 1
    assert "h.a.test. 60 A 192.0.2.1" in stored(writer, "a.test.")
    *_, entry = writer.store.journal(n("a.test."))
    assert (entry.identity, entry.source) == ("user:x", "192.0.2.9")
    assert [r.rdata.rdtype for r in entry.added] == [dns.rdatatype.SOA, A]
    served = writer.snapshot(n("a.test."))
    assert served is not None and served.serial == out.serial_to


def test_a_change_that_changes_nothing_leaves_serial_and_journal_alone(writer: Engine) -> None:
    op = SetRRset(n("h.a.test."), A, 60, (rd("A", "192.0.2.1"),))
    cs = ChangeSet("user:x", "-", (ZoneChange(n("a.test."), (op,)),))
    first = writer.commit_now(cs)[0]
    again = writer.commit_now(cs)[0]
    assert not again.changed and again.serial_to == first.serial_to


def test_one_refused_zone_rolls_back_the_whole_changeset(writer: Engine) -> None:
    before = stored(writer, "a.test."), stored(writer, "b.test.")
    good = ZoneChange(n("a.test."), (SetRRset(n("x.a.test."), A, 60, (rd("A", "192.0.2.5"),)),))
    bad = ZoneChange(
        n("b.test."),
        (
            AddRecord(n("c.b.test."), 60, rd("CNAME", "x.b.test.")),
            AddRecord(n("c.b.test."), 60, rd("A", "192.0.2.6")),
        ),
    )
    with pytest.raises(ChangeRejected, match="CNAME beside other data"):
        writer.commit_now(ChangeSet("user:x", "-", (good, bad)))
    assert (stored(writer, "a.test."), stored(writer, "b.test.")) == before


def test_the_apex_keeps_its_soa_and_ns(writer: Engine) -> None:
    with pytest.raises(ChangeRejected, match="must keep its SOA and NS"):
        writer.commit_now(
            ChangeSet(
                "x",
                "-",
                (ZoneChange(n("a.test."), (DeleteRRset(n("a.test."), dns.rdatatype.NS),)),),
            )
        )
    with pytest.raises(ChangeRejected, match="managed by dynzone"):
        soa = rd("SOA", "ns1.a.test. h.a.test. 9 1 1 1 1")
        writer.commit_now(
            ChangeSet("x", "-", (ZoneChange(n("a.test."), (AddRecord(n("a.test."), 60, soa),)),))
        )
    with pytest.raises(ChangeRejected, match="not in zone"):
        op = SetRRset(n("h.b.test."), A, 60, (rd("A", "192.0.2.1"),))
        writer.commit_now(ChangeSet("x", "-", (ZoneChange(n("a.test."), (op,)),)))


def test_the_journal_is_bounded_per_zone(writer: Engine) -> None:
    for i in range(5):
        op = SetRRset(n("h.a.test."), A, 60, (rd("A", f"192.0.2.{i}"),))
        writer.commit_now(ChangeSet("x", "-", (ZoneChange(n("a.test."), (op,)),)))
    entries = writer.store.journal(n("a.test."))
    assert len(entries) == 3
    assert all(a.serial_to == b.serial_from for a, b in itertools.pairwise(entries))


def test_the_journal_is_bounded_also_when_one_batch_adds_more_than_the_limit(
    writer: Engine,
) -> None:
    changesets = [
        ChangeSet("x", "-", (ZoneChange(n("a.test."), (SetRRset(
            n(f"h{i}.a.test."), A, 60, (rd("A", f"192.0.2.{i}"),)),)),))
        for i in range(5)
    ]  # fmt: skip
    results = writer._commit_batch(changesets)
    assert not any(isinstance(r, BaseException) for r in results)
    entries = writer.store.journal(n("a.test."))
    assert [e.serial_to for e in entries] == [r[0].serial_to for r in results[-3:]]  # type: ignore[index]


def test_a_change_failing_after_it_wrote_rolls_back_the_whole_batch(
    writer: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from dynzone.store.base import StoreError
    from dynzone.store.sqlite.store import SqliteZoneWrite

    origin = n("b.test.")
    before, records = writer.snapshot(origin).serial, stored(writer, "b.test.")  # type: ignore[union-attr]
    real = SqliteZoneWrite.append_journal
    calls = itertools.count()

    def second_fails(self: SqliteZoneWrite, *args: object) -> int:
        if next(calls) == 1:  # after this change's records are written
            raise sqlite3.OperationalError("disk I/O error")
        return real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(SqliteZoneWrite, "append_journal", second_fails)
    changesets = [
        ChangeSet("x", "-", (ZoneChange(origin, (SetRRset(
            n(f"h{i}.b.test."), A, 60, (rd("A", f"192.0.2.{i}"),)),)),))
        for i in range(3)
    ]  # fmt: skip
    results = writer._commit_batch(changesets)
    # Nothing half applied: the change could not be undone alone, so none is kept.
    assert all(isinstance(r, StoreError) for r in results)
    assert stored(writer, "b.test.") == records
    assert writer.snapshot(origin).serial == before  # type: ignore[union-attr]
    monkeypatch.setattr(SqliteZoneWrite, "append_journal", real)
    [again] = writer._commit_batch(changesets[:1])
    assert not isinstance(again, BaseException) and again[0].serial_to == before + 1


def test_the_evolved_snapshot_equals_one_built_from_the_store(writer: Engine) -> None:
    ops = (
        SetRRset(n("deep.er.a.test."), A, 60, (rd("A", "192.0.2.1"),)),
        AddRecord(n("t.a.test."), 300, rd("TXT", '"hello"')),
    )
    writer.commit_now(ChangeSet("x", "-", (ZoneChange(n("a.test."), ops),)))
    writer.commit_now(
        ChangeSet("x", "-", (ZoneChange(n("a.test."), (DeleteRRset(n("deep.er.a.test."), A),)),))
    )
    evolved = writer.snapshot(n("a.test."))
    assert evolved is not None
    found = writer.store.load_zone(n("a.test."))
    assert found is not None
    fresh = ZoneSnapshot(n("a.test."), found.records)
    assert set(evolved.nodes) == set(fresh.nodes)  # the empty non-terminal er.a.test went too
    assert {k: sorted(v) for k, v in evolved.nodes.items()} == {
        k: sorted(v) for k, v in fresh.nodes.items()
    }
    assert evolved.record_count == fresh.record_count and evolved.serial == fresh.serial


def test_an_edit_sees_the_transaction_and_its_exception_writes_nothing(writer: Engine) -> None:
    before = stored(writer, "a.test.")
    seen: list[set[int]] = []

    def edit(view: ZoneEdit) -> None:
        view.apply(AddRecord(n("e.a.test."), 60, rd("A", "192.0.2.7")))
        seen.append(view.types_at(n("e.a.test.")))
        raise LookupError("prerequisite not met")

    change = ZoneChange(n("a.test."), (), edit=edit)
    with pytest.raises(LookupError):
        writer.commit_now(ChangeSet("key:k", "127.0.0.1", (change,)))
    assert seen == [{A}], "the edit reads its own change back"
    assert stored(writer, "a.test.") == before


def test_vet_sees_the_final_difference_and_may_refuse_it(writer: Engine) -> None:
    writer.commit_now(
        ChangeSet(
            "key:k",
            "x",
            (
                ZoneChange(
                    n("a.test."), (SetRRset(n("v.a.test."), A, 60, (rd("A", "192.0.2.1"),)),)
                ),
            ),
        )
    )
    before = stored(writer, "a.test.")
    diffs: list[tuple[list[str], list[str]]] = []

    def vet(removed: list[Record], added: list[Record]) -> None:
        diffs.append(([str(r.rdata) for r in removed], [str(r.rdata) for r in added]))
        raise PermissionError("not yours")

    op = SetRRset(n("v.a.test."), A, 60, (rd("A", "192.0.2.2"),))
    with pytest.raises(PermissionError):
        writer.commit_now(ChangeSet("key:k", "x", (ZoneChange(n("a.test."), (op,), vet=vet),)))
    assert diffs == [(["192.0.2.1"], ["192.0.2.2"])], "vet sees records, without the SOA"
    assert stored(writer, "a.test.") == before


def test_a_replaced_soa_keeps_a_higher_serial(writer: Engine) -> None:
    held = writer.snapshot(n("a.test."))
    assert held is not None
    old = Record(held.origin, held.soa.ttl, held.soa[0])
    new = Record(old.name, 300, old.rdata.replace(serial=old.rdata.serial + 1000, minimum=30))  # type: ignore[attr-defined]

    def edit(view: ZoneEdit) -> None:
        view.replace_soa(new)

    [out] = writer.commit_now(ChangeSet("key:k", "x", (ZoneChange(n("a.test."), (), edit=edit),)))
    assert out.changed and out.serial_to == old.rdata.serial + 1000  # type: ignore[attr-defined]
    served = writer.snapshot(n("a.test."))
    assert served is not None
    assert served.soa.ttl == 300 and served.soa[0].minimum == 30


def test_serial_past_moves_the_serial_beyond_a_newer_one_with_nothing_else_changed(
    writer: Engine,
) -> None:
    engine, origin = writer, n("b.test.")
    before = engine.snapshot(origin).serial  # type: ignore[union-attr]
    ahead = before + 500
    (done,) = engine.commit_now(ChangeSet("t", "-", (ZoneChange(origin, (), serial_past=ahead),)))
    assert done.changed and done.serial_to == ahead + 1
    assert engine.snapshot(origin).serial == ahead + 1  # type: ignore[union-attr]
    # Already past it: nothing to do.
    (again,) = engine.commit_now(ChangeSet("t", "-", (ZoneChange(origin, (), serial_past=ahead),)))
    assert not again.changed


def test_changes_waiting_for_the_writer_share_one_transaction_and_fail_alone(
    writer: Engine,
) -> None:
    engine, origin = writer, n("b.test.")
    before = engine.snapshot(origin).serial  # type: ignore[union-attr]
    syncs = REGISTRY.get_sample_value("dynzone_store_sync_seconds_count") or 0.0
    # Hold the writer busy, so that the changes below queue up for one batch.
    release = threading.Event()
    engine._writer.submit(release.wait)

    def refused(view: object) -> None:
        raise ChangeRejected("this one is refused")

    results: dict[int, object] = {}
    finished = threading.Event()

    def done_for(i: int) -> Callable[[object, object], None]:
        def done(outcomes: object, error: object) -> None:
            results[i] = error if error is not None else outcomes
            if len(results) == 5:
                finished.set()

        return done

    for i in range(5):
        name = dns.name.from_text(f"h{i}.b.test.")
        rd = (dns.rdata.from_text("IN", "A", f"192.0.2.{i + 1}"),)
        edit = refused if i == 2 else None
        change = ZoneChange(origin, (SetRRset(name, dns.rdatatype.A, 60, rd),), edit=edit)
        engine.submit(ChangeSet("t", "-", (change,)), done_for(i))
    release.set()
    assert finished.wait(10)
    assert isinstance(results[2], ChangeRejected)
    committed = [results[i] for i in (0, 1, 3, 4)]
    serials = [r[0].serial_to for r in committed]  # type: ignore[index]
    assert serials == [before + 1, before + 2, before + 3, before + 4]  # one step each
    after = REGISTRY.get_sample_value("dynzone_store_sync_seconds_count") or 0.0
    assert after - syncs == 1, "four changes, one transaction"
    snap = engine.snapshot(origin)
    assert snap is not None and snap.serial == before + 4
    journal = engine.store.journal(origin)
    assert [e.serial_to for e in journal[-4:]] == serials  # an entry each


def test_a_reply_that_fails_does_not_keep_the_rest_of_the_batch_waiting(writer: Engine) -> None:
    engine, origin = writer, n("b.test.")
    release = threading.Event()
    engine._writer.submit(release.wait)
    heard = threading.Event()

    def broken(outcomes: object, error: object) -> None:
        raise RuntimeError("a door's reply failed")

    def fine(outcomes: object, error: object) -> None:
        heard.set()

    for i, done in enumerate((broken, fine)):
        name = dns.name.from_text(f"x{i}.b.test.")
        rd = (dns.rdata.from_text("IN", "A", "192.0.2.9"),)
        change = ZoneChange(origin, (SetRRset(name, dns.rdatatype.A, 60, rd),))
        engine.submit(ChangeSet("t", "-", (change,)), done)
    release.set()
    assert heard.wait(10)
    # And the writer still takes new changes.
    again = threading.Event()
    engine.submit(
        ChangeSet("t", "-", (ZoneChange(origin, (SetRRset(
            dns.name.from_text("x9.b.test."), dns.rdatatype.A, 60,
            (dns.rdata.from_text("IN", "A", "192.0.2.10"),)),)),)),
        lambda o, e: again.set(),
    )  # fmt: skip
    assert again.wait(10)


def test_a_batch_reads_its_own_earlier_changes_and_serves_what_the_store_holds(
    writer: Engine,
) -> None:
    engine, origin, host = writer, n("b.test."), n("h.b.test.")
    release = threading.Event()
    engine._writer.submit(release.wait)  # the changes below queue up for one batch
    seen: list[list[str]] = []

    def look_then_add(view: ZoneEdit) -> None:
        seen.append(sorted(str(r) for r in view.rdatas(host, A)))
        view.types_at(host)

    def refused(view: ZoneEdit) -> None:
        raise ChangeRejected("refused after its ops touched the RRset")

    changes = [
        ZoneChange(origin, (AddRecord(host, 60, rd("A", "192.0.2.1")),)),
        ZoneChange(origin, (AddRecord(host, 60, rd("A", "192.0.2.2")),), edit=refused),
        ZoneChange(origin, (AddRecord(host, 60, rd("A", "192.0.2.3")),), edit=look_then_add),
        ZoneChange(origin, (SetRRset(n("gone.b.test."), A, 60, (rd("A", "192.0.2.9"),)),)),
        ZoneChange(origin, (DeleteRRset(n("gone.b.test."), A),), edit=look_then_add),
    ]
    finished = threading.Event()
    results: list[object] = []

    def done(outcomes: object, error: object) -> None:
        results.append(error or outcomes)
        if len(results) == len(changes):
            finished.set()

    for change in changes:
        engine.submit(ChangeSet("t", "-", (change,)), done)
    release.set()
    assert finished.wait(10)
    # The third change saw the first one's record and not the refused one's.
    assert seen == [["192.0.2.1", "192.0.2.3"], ["192.0.2.1", "192.0.2.3"]]
    served = engine.snapshot(origin)
    found = engine.store.load_zone(origin)
    assert served is not None and found is not None
    fresh = ZoneSnapshot(origin, found.records)
    assert {k: sorted(v) for k, v in served.nodes.items()} == {
        k: sorted(v) for k, v in fresh.nodes.items()
    }
    assert served.serial == fresh.serial and served.record_count == fresh.record_count


def test_a_batch_is_logged_once_per_zone_with_its_changes_and_serials(
    writer: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    engine, origin = writer, n("b.test.")
    before = engine.snapshot(origin).serial  # type: ignore[union-attr]
    release = threading.Event()
    engine._writer.submit(release.wait)
    finished = threading.Event()
    count = 0

    def done(outcomes: object, error: object) -> None:
        nonlocal count
        count += 1
        if count == 3:
            finished.set()

    for i, who in enumerate(("key:a", "user:b", "key:a")):
        op = SetRRset(n(f"log{i}.b.test."), A, 60, (rd("A", f"192.0.2.{i + 1}"),))
        engine.submit(ChangeSet(who, "-", (ZoneChange(origin, (op,)),)), done)
    with caplog.at_level("INFO", logger="dynzone"):
        release.set()
        assert finished.wait(10)
    lines = [r.getMessage() for r in caplog.records if "changes by" in r.getMessage()]
    assert lines == [f"b.test.: 3 changes by key:a, user:b, serial {before} -> {before + 3}"]


BIG = """$TTL 300
@ SOA ns1 hostmaster 7 3600 600 86400 60
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.2
www AAAA 2001:db8::2
mail MX 10 www
"""


@pytest.fixture
def built_beside(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every new zone from a file counts as big: its snapshot is built in a
    helper thread beside the store's work (the calls are counted)."""
    calls: list[int] = []
    real = apply._beside

    def counted(build: Callable[[], ZoneSnapshot]) -> Future[ZoneSnapshot]:
        calls.append(1)
        return real(build)

    monkeypatch.setattr(apply, "_BESIDE_STORE", 1)
    monkeypatch.setattr(apply, "_beside", counted)
    return calls


def rrsets(node: Node) -> dict[int, tuple[str, int, list[str]]]:
    """A node's RRsets, packed or not: owner, TTL and records as text."""
    return {
        t: (node[t].name.to_text(), node[t].ttl, sorted(rd.to_text() for rd in node[t]))
        for t in node
    }


def assert_serves_what_is_stored(engine: Engine, origin: dns.name.Name) -> ZoneSnapshot:
    served = engine.snapshot(origin)
    found = engine.store.load_zone(origin)
    assert served is not None and found is not None
    stored = found.snapshot
    assert sorted(served.nodes) == sorted(stored.nodes)
    for key, node in served.nodes.items():
        assert rrsets(node) == rrsets(stored.nodes[key]), key
    assert served.serial == stored.serial and served.record_count == stored.record_count
    return served


def test_a_big_zones_snapshot_built_beside_the_commit_is_the_one_stored(
    tmp_path: Path, built_beside: list[int]
) -> None:
    origin = n("big.test.")
    path = tmp_path / "big.test.zone"
    path.write_text(BIG)
    settings = ZoneSettings(origin, file=path)
    engine = Engine(open_store(tmp_path / "data"), [settings], lambda: open_store(tmp_path))
    try:
        bring_in_line(engine, [settings], strict=True)
        assert built_beside == [1]
        served = assert_serves_what_is_stored(engine, origin)
        assert served.serial == 7 and served.record_count == 6
        # and it evolves like any other
        add = AddRecord(n("new.big.test."), 60, rd("A", "192.0.2.7"))
        engine.commit_now(ChangeSet("user:x", "-", (ZoneChange(origin, (add,)),)))
        assert assert_serves_what_is_stored(engine, origin).serial == 8
    finally:
        engine.close()


def test_a_new_zone_changed_again_in_its_batch_is_served_with_that_change(
    writer: Engine, built_beside: list[int]
) -> None:
    origin = n("c.test.")
    records = read_zone_text(BIG, origin)
    create = NewZone(origin, ZoneRows.of_records(records), [("c.test.zone", "digest")])
    add = AddRecord(n("new.c.test."), 60, rd("A", "192.0.2.7"))
    results = writer.commit_all_now(
        [
            ChangeSet("file:c.test.zone", "local", (create,)),
            ChangeSet("user:x", "-", (ZoneChange(origin, (add,)),)),
        ]
    )
    assert not [r for r in results if isinstance(r, BaseException)]
    assert built_beside == [1]
    writer.serve([n("a.test."), n("b.test."), origin])
    served = assert_serves_what_is_stored(writer, origin)
    assert served.serial == 8 and served.record_count == 7
