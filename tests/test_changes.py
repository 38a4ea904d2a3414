"""The ChangeSet pipeline against a real SQLite store: atomic, journaled, serial-bumped."""

from __future__ import annotations

import itertools
from pathlib import Path

import dns.name
import dns.rdata
import dns.rdatatype
import pytest

from dynzone.changes import (
    AddRecord,
    ChangeRejected,
    ChangeSet,
    DeleteRRset,
    SetRRset,
    Writer,
    ZoneChange,
    ZoneEdit,
    ZonePolicy,
)
from dynzone.config import ZoneConfig
from dynzone.store import journal, records
from dynzone.store import zones as zone_rows
from dynzone.store.sqlite import connect
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.sync import sync_zone
from dynzone.zones.zonefile import Record

A = dns.rdatatype.A


def n(text: str) -> dns.name.Name:
    return dns.name.from_text(text)


def rd(rdtype: str, text: str) -> dns.rdata.Rdata:
    return dns.rdata.from_text("IN", rdtype, text)


def zone_config(name: str) -> ZoneConfig:
    return ZoneConfig(n(name), ns=(n(f"ns1.{name}."),), email=f"hostmaster@{name}")


@pytest.fixture
def writer(tmp_path: Path) -> Writer:
    conn = connect(tmp_path)
    published: list[object] = []
    w = Writer(
        conn, {}, {n("a.test."): ZonePolicy(journal_limit=3)}, lambda s, c: published.append(c)
    )
    for name in ("a.test", "b.test"):
        sync_zone(conn, w, zone_config(name))
    w.snapshots = {
        n(z): ZoneSnapshot(n(z), records.load(conn, zone_rows.zone_id(conn, n(z)) or 0))
        for z in ("a.test.", "b.test.")
    }
    return w


def stored(w: Writer, zone: str) -> set[str]:
    zid = zone_rows.zone_id(w.conn, n(zone))
    assert zid is not None
    return {f"{r.name} {r.ttl} {r.rdata.rdtype.name} {r.rdata}" for r in records.load(w.conn, zid)}


def test_a_commit_writes_records_bumps_the_serial_and_journals(writer: Writer) -> None:
    op = SetRRset(n("h.a.test."), A, 60, (rd("A", "192.0.2.1"),))
    [out] = writer.commit(ChangeSet("user:x", "192.0.2.9", (ZoneChange(n("a.test."), (op,)),)))
    assert out.changed and out.serial_to == out.serial_from + 1
    assert "h.a.test. 60 A 192.0.2.1" in stored(writer, "a.test.")
    [entry] = journal.entries(writer.conn, zone_rows.zone_id(writer.conn, n("a.test.")) or 0)
    assert (entry.identity, entry.source) == ("user:x", "192.0.2.9")
    assert [r.rdata.rdtype for r in entry.added] == [dns.rdatatype.SOA, A]
    assert writer.snapshots[n("a.test.")].serial == out.serial_to


def test_a_change_that_changes_nothing_leaves_serial_and_journal_alone(writer: Writer) -> None:
    op = SetRRset(n("h.a.test."), A, 60, (rd("A", "192.0.2.1"),))
    cs = ChangeSet("user:x", "-", (ZoneChange(n("a.test."), (op,)),))
    first = writer.commit(cs)[0]
    again = writer.commit(cs)[0]
    assert not again.changed and again.serial_to == first.serial_to


def test_one_refused_zone_rolls_back_the_whole_changeset(writer: Writer) -> None:
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
        writer.commit(ChangeSet("user:x", "-", (good, bad)))
    assert (stored(writer, "a.test."), stored(writer, "b.test.")) == before


def test_the_apex_keeps_its_soa_and_ns(writer: Writer) -> None:
    with pytest.raises(ChangeRejected, match="must keep its SOA and NS"):
        writer.commit(
            ChangeSet(
                "x",
                "-",
                (ZoneChange(n("a.test."), (DeleteRRset(n("a.test."), dns.rdatatype.NS),)),),
            )
        )
    with pytest.raises(ChangeRejected, match="managed by dynzone"):
        soa = rd("SOA", "ns1.a.test. h.a.test. 9 1 1 1 1")
        writer.commit(
            ChangeSet("x", "-", (ZoneChange(n("a.test."), (AddRecord(n("a.test."), 60, soa),)),))
        )
    with pytest.raises(ChangeRejected, match="not in zone"):
        op = SetRRset(n("h.b.test."), A, 60, (rd("A", "192.0.2.1"),))
        writer.commit(ChangeSet("x", "-", (ZoneChange(n("a.test."), (op,)),)))


def test_the_journal_is_bounded_per_zone(writer: Writer) -> None:
    for i in range(5):
        op = SetRRset(n("h.a.test."), A, 60, (rd("A", f"192.0.2.{i}"),))
        writer.commit(ChangeSet("x", "-", (ZoneChange(n("a.test."), (op,)),)))
    entries = journal.entries(writer.conn, zone_rows.zone_id(writer.conn, n("a.test.")) or 0)
    assert len(entries) == 3
    assert all(a.serial_to == b.serial_from for a, b in itertools.pairwise(entries))


def test_the_evolved_snapshot_equals_one_built_from_the_store(writer: Writer) -> None:
    ops = (
        SetRRset(n("deep.er.a.test."), A, 60, (rd("A", "192.0.2.1"),)),
        AddRecord(n("t.a.test."), 300, rd("TXT", '"hello"')),
    )
    writer.commit(ChangeSet("x", "-", (ZoneChange(n("a.test."), ops),)))
    writer.commit(
        ChangeSet("x", "-", (ZoneChange(n("a.test."), (DeleteRRset(n("deep.er.a.test."), A),)),))
    )
    evolved = writer.snapshots[n("a.test.")]
    zid = zone_rows.zone_id(writer.conn, n("a.test.")) or 0
    fresh = ZoneSnapshot(n("a.test."), records.load(writer.conn, zid))
    assert set(evolved.nodes) == set(fresh.nodes)  # the empty non-terminal er.a.test went too
    assert {k: sorted(v) for k, v in evolved.nodes.items()} == {
        k: sorted(v) for k, v in fresh.nodes.items()
    }
    assert evolved.record_count == fresh.record_count and evolved.serial == fresh.serial


def test_an_edit_sees_the_transaction_and_its_exception_writes_nothing(writer: Writer) -> None:
    before = stored(writer, "a.test.")
    seen: list[set[int]] = []

    def edit(view: ZoneEdit) -> None:
        view.apply(AddRecord(n("e.a.test."), 60, rd("A", "192.0.2.7")))
        seen.append(view.types_at(n("e.a.test.")))
        raise LookupError("prerequisite not met")

    change = ZoneChange(n("a.test."), (), edit=edit)
    with pytest.raises(LookupError):
        writer.commit(ChangeSet("key:k", "127.0.0.1", (change,)))
    assert seen == [{A}], "the edit reads its own change back"
    assert stored(writer, "a.test.") == before


def test_vet_sees_the_final_difference_and_may_refuse_it(writer: Writer) -> None:
    writer.commit(
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
        writer.commit(ChangeSet("key:k", "x", (ZoneChange(n("a.test."), (op,), vet=vet),)))
    assert diffs == [(["192.0.2.1"], ["192.0.2.2"])], "vet sees records, without the SOA"
    assert stored(writer, "a.test.") == before


def test_a_replaced_soa_keeps_a_higher_serial(writer: Writer) -> None:
    zid = zone_rows.zone_id(writer.conn, n("a.test."))
    assert zid is not None
    [old] = records.rrset(writer.conn, zid, n("a.test."), dns.rdatatype.SOA)
    new = Record(old.name, 300, old.rdata.replace(serial=old.rdata.serial + 1000, minimum=30))  # type: ignore[attr-defined]

    def edit(view: ZoneEdit) -> None:
        view.replace_soa(new)

    [out] = writer.commit(ChangeSet("key:k", "x", (ZoneChange(n("a.test."), (), edit=edit),)))
    assert out.changed and out.serial_to == old.rdata.serial + 1000  # type: ignore[attr-defined]
    [soa] = records.rrset(writer.conn, zid, n("a.test."), dns.rdatatype.SOA)
    assert soa.ttl == 300 and soa.rdata.minimum == 30  # type: ignore[attr-defined]
