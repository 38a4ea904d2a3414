"""The SQLite store behind the port: atomic writes, the change feed, the counters
readers rely on, and journal entries of both formats."""

from __future__ import annotations

import json
from pathlib import Path

import dns.name
import dns.rdata
import pytest

from dynzone.policy import Grant
from dynzone.store import open_store
from dynzone.store.base import StoreError
from dynzone.zones.zone_rows import ZoneRows
from dynzone.zones.zonefile import Record

ZONE = dns.name.from_text("example.com")


def soa(serial: int) -> Record:
    text = f"ns1.example.com. hostmaster.example.com. {serial} 3600 600 86400 60"
    return Record(ZONE, 300, dns.rdata.from_text("IN", "SOA", text))


def a(name: str, address: str) -> Record:
    return Record(dns.name.from_text(name), 60, dns.rdata.from_text("IN", "A", address))


def test_a_write_that_raises_leaves_nothing(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    with pytest.raises(LookupError), store.write() as txn:
        zone = txn.create_zone(ZONE)
        zone.insert([soa(1), a("www.example.com", "192.0.2.1")])
        txn.add_identity("user:x", "hash", [Grant("www.example.com.")])
        raise LookupError("changed my mind")
    assert store.load_zone(ZONE) is None
    assert store.identity("user:x") is None
    assert store.positions() == {}


def test_a_zone_loads_with_its_feed_position(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    with store.write() as txn:
        zone = txn.create_zone(ZONE)
        ns = Record(ZONE, 300, dns.rdata.from_text("IN", "NS", "ns1.example.com."))
        zone.insert([soa(1), ns, a("www.example.com", "192.0.2.1")])
        zone.append_journal(1, 1, [], [soa(1)], "file", "local", 0.0, 10)
    with store.write() as txn:
        zone = txn.zone(ZONE)
        assert zone is not None and zone.position() == 1
        zone.write_rrset(
            dns.name.from_text("www.example.com"),
            1,
            60,
            [dns.rdata.from_text("IN", "A", "192.0.2.2")],
        )
        zone.write_rrset(ZONE, 6, 300, [soa(2).rdata])
        zone.append_journal(1, 2, [soa(1)], [soa(2)], "test", "-", 0.0, 10)
    stored = store.load_zone(ZONE)
    assert stored is not None and stored.position == 2
    assert sorted(str(r.rdata) for r in stored.records)[0] == "192.0.2.2"
    assert store.soa_serial(ZONE) == 2
    assert store.positions() == {ZONE: 2}
    [entry] = store.journal_after(ZONE, 1)
    assert (entry.seq, entry.serial_from, entry.serial_to) == (2, 1, 2)
    assert store.journal(ZONE)[0].creates_zone


def test_the_version_moves_when_another_connection_commits(tmp_path: Path) -> None:
    store, other = open_store(tmp_path), open_store(tmp_path)
    before, identities = store.version(), store.identities_version()
    with other.write() as txn:
        txn.create_zone(ZONE).insert([soa(1)])
    assert store.version() != before
    # Only identity changes move the identities counter.
    assert store.identities_version() == identities
    with other.write() as txn:
        txn.add_identity("key:k", "c2VjcmV0", [], algorithm="hmac-sha256")
    assert store.identities_version() != identities


def test_journal_entries_written_as_json_still_read(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    with store.write() as txn:
        txn.create_zone(ZONE).insert([soa(1)])
    conn = store.conn  # type: ignore[attr-defined]
    row = [["www.example.com.", 60, "A", "192.0.2.1"]]
    conn.execute(
        "INSERT INTO journal (zone_id, seq, serial_from, serial_to, removed, added,"
        " identity, source, time) VALUES (1, 1, 1, 2, '[]', ?, 'user:old', '-', 0)",
        (json.dumps(row),),
    )
    [entry] = store.journal(ZONE)
    assert [f"{r.name} {r.rdata}" for r in entry.added] == ["www.example.com. 192.0.2.1"]


def test_an_unusable_store_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "dynzone.sqlite3").write_bytes(b"this is not a database, just bytes" * 100)
    with pytest.raises(StoreError, match="cannot open the store"):
        open_store(tmp_path)


def test_many_zones_load_in_one_read_as_each_alone(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    names = [dns.name.from_text(f"z{i}.example") for i in range(5)]
    for i, origin in enumerate(names):
        with store.write() as txn:
            zone = txn.create_zone(origin)
            text = f"ns1.{origin} hostmaster.{origin} {i + 1} 3600 600 86400 60"
            zone.insert(
                [
                    Record(origin, 300, dns.rdata.from_text("IN", "SOA", text)),
                    Record(origin, 300, dns.rdata.from_text("IN", "NS", f"ns1.{origin}")),
                    Record(
                        dns.name.from_text("www", origin),
                        60,
                        dns.rdata.from_text("IN", "A", f"192.0.2.{i}"),
                    ),
                ]
            )
            zone.append_journal(i + 1, i + 1, [], [], "file", "local", 0.0, 10)
    absent = dns.name.from_text("absent.example")
    loaded = store.load_zones([*names[1:], absent])
    assert set(loaded) == set(names[1:])
    for origin in names[1:]:
        alone = store.load_zone(origin)
        assert alone is not None
        got = loaded[origin]
        assert got.position == alone.position
        assert sorted(map(str, got.records)) == sorted(map(str, alone.records))
        assert got.snapshot.serial == alone.snapshot.serial


def test_the_file_states_of_all_zones_read_at_once_are_each_zones_own(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    other = dns.name.from_text("Other.Example.NET")
    with store.write() as txn:
        zone = txn.create_zone(ZONE)
        zone.insert([soa(1)])
        zone.file_records_are_the_zone([("/zones/example.com", "d1"), ("/zones/inc", "d2")])
        txn.create_zone(other).insert([soa(1)])  # a zone from settings: no file
        txn.create_zone(dns.name.from_text("third.test")).file_records_are_the_zone(
            [("/zones/third", "d3")]
        )
    states = store.file_states()
    assert states == {
        "example.com.": [("/zones/example.com", "d1"), ("/zones/inc", "d2")],
        "third.test.": [("/zones/third", "d3")],
    }
    assert states["example.com."] == store.file_state(ZONE)
    assert store.file_state(other) is None


@pytest.mark.parametrize("hosts", [3, 12_000])  # small zones share a statement, big ones not
def test_rows_inserted_as_they_are_read_back_as_written(tmp_path: Path, hosts: int) -> None:
    zone = ZoneRows.of_records(
        [soa(1), Record(ZONE, 300, dns.rdata.from_text("IN", "NS", "ns1.example.com."))]
        + [a(f"H{i}.example.com", f"10.0.{i >> 8 & 255}.{i & 255}") for i in range(hosts)]
    )
    store = open_store(tmp_path)
    with store.write() as txn:
        txn.create_zone(ZONE).insert_rows(zone.rows)
        other = txn.create_zone(dns.name.from_text("other.com"))
        other.insert([soa(1)])
    stored = store.load_zone(ZONE)
    assert stored is not None and stored.snapshot.record_count == hosts + 2

    def texts(records: list[Record]) -> list[tuple[str, int, str]]:
        return sorted((r.name.to_text(), r.ttl, r.rdata.to_text()) for r in records)

    assert texts(stored.records) == texts(zone.records())
    assert stored.snapshot.nodes[b"\x02h2\x07example\x03com\x00"].owner_wire()[:3] == b"\x02H2"
