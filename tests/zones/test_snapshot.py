"""Building a snapshot from records: RRsets as dnspython's Rdataset.add makes them."""

from __future__ import annotations

import dns.name
import dns.rdata
import dns.rrset

from dynzone.zones.names import key_of
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.zone_rows import ZoneRows
from dynzone.zones.zonefile import Record

ORIGIN = dns.name.from_text("s.test.")


def n(text: str) -> dns.name.Name:
    return dns.name.from_text(text)


def rec(name: str, ttl: int, rdtype: str, text: str) -> Record:
    rdata = dns.rdata.from_text("IN", rdtype, text, origin=ORIGIN, relativize=False)
    return Record(dns.name.from_text(name, ORIGIN), ttl, rdata)


RECORDS = [
    rec("@", 3600, "SOA", "ns1 h 1 3600 600 86400 60"),
    rec("@", 3600, "NS", "ns1"),
    rec("ns1", 300, "A", "192.0.2.1"),
    # Duplicates, and TTLs that differ: the lowest wins, each record once.
    rec("h", 300, "A", "192.0.2.2"),
    rec("h", 60, "A", "192.0.2.3"),
    rec("h", 600, "A", "192.0.2.2"),
    rec("H", 120, "AAAA", "2001:db8::2"),
    rec("h", 90, "TXT", '"one"'),
    rec("h", 30, "TXT", '"one"'),
    rec("@", 300, "MX", "10 h"),
    rec("@", 300, "MX", "20 h"),
    # A singleton type: dnspython keeps the last one given.
    rec("alias", 300, "CNAME", "h"),
    rec("alias", 60, "CNAME", "ns1"),
    rec("outside.other.", 300, "A", "192.0.2.9"),  # not in the zone: left out
]


def test_rrsets_are_what_rdataset_add_makes_of_the_records_in_order() -> None:
    snap = ZoneSnapshot(ORIGIN, RECORDS)
    reference: dict[tuple[bytes, int], dns.rrset.RRset] = {}
    for r in RECORDS:
        if not r.name.is_subdomain(ORIGIN):
            continue
        k = (key_of(r.name), r.rdata.rdtype)
        if k not in reference:
            reference[k] = dns.rrset.RRset(r.name, r.rdata.rdclass, r.rdata.rdtype)
        reference[k].add(r.rdata, r.ttl)
    built = {(key, t): rrset for key, node in snap.nodes.items() for t, rrset in node.items()}
    assert built.keys() == reference.keys()
    for k, ref in reference.items():
        assert built[k] == ref and built[k].ttl == ref.ttl, k
        assert list(built[k]) == list(ref)  # the same order too
    assert snap.record_count == sum(len(r) for r in reference.values())


def stored_rows(records: list[Record]) -> list[tuple[str, str, int, int, bytes]]:
    """What the store's rows for ``records`` would be, in its read order."""
    snap = ZoneSnapshot(ORIGIN, records)  # one row per distinct record, as stored
    rows = []
    for node in snap.nodes.values():
        for rdtype, rrset in node.items():
            for rd in rrset:
                text = rrset.name.to_text()
                rows.append((text.lower(), text, rdtype, rrset.ttl, rd.to_wire()))
    return sorted(rows, key=lambda r: (r[0], r[2]))


def test_a_snapshot_from_stored_rows_equals_one_from_the_records() -> None:
    from_records = ZoneSnapshot(ORIGIN, RECORDS)
    from_rows = ZoneSnapshot.from_rows(ORIGIN, stored_rows(RECORDS))
    assert dict(from_rows.nodes.items()).keys() == dict(from_records.nodes.items()).keys()
    for key, node in from_records.nodes.items():
        other = from_rows.nodes[key]
        assert (node.below, node.owner_wire(), sorted(node)) == (
            other.below,
            other.owner_wire(),
            sorted(other),
        )
        for rdtype in node:
            a, b = node[rdtype], other[rdtype]
            assert a == b and a.ttl == b.ttl and a.name.to_text() == b.name.to_text()
    assert from_rows.record_count == from_records.record_count
    assert from_rows.serial == from_records.serial


def test_the_root_zone_loads_from_rows() -> None:
    root = dns.name.root
    rows = [
        (".", ".", 2, 300, dns.rdata.from_text("IN", "NS", "a.root.").to_wire()),
        (".", ".", 6, 300, dns.rdata.from_text("IN", "SOA", "a.root. h.root. 7 2 3 4 5").to_wire()),
        ("com.", "com.", 2, 300, dns.rdata.from_text("IN", "NS", "ns.com.").to_wire()),
    ]
    snap = ZoneSnapshot.from_rows(root, rows)
    assert sorted(snap.nodes) == [b"\x00", b"\x03com\x00"]
    assert snap.serial == 7 and snap.record_count == 3


def test_a_record_stored_twice_is_one_record_of_its_set() -> None:
    # A zone file may write a record twice (dnspython's reader keeps both in
    # its list of records, and the store both rows): the set holds it once,
    # with the lower TTL, as a snapshot made from the records does.
    def a(address: str) -> bytes:
        return dns.rdata.from_text("IN", "A", address).to_wire()

    rows = stored_rows(RECORDS)
    extra = [
        ("dup.s.test.", "dup.s.test.", 1, 300, a("192.0.2.1")),
        ("dup.s.test.", "dup.s.test.", 1, 300, a("192.0.2.2")),
        ("dup.s.test.", "dup.s.test.", 1, 60, a("192.0.2.1")),
        ("dup.s.test.", "dup.s.test.", 1, 300, a("192.0.2.2")),
        ("dup.s.test.", "dup.s.test.", 1, 300, a("192.0.2.3")),
    ]
    snap = ZoneSnapshot.from_rows(ORIGIN, sorted(rows + extra, key=lambda r: (r[0], r[2])))
    node = snap.nodes[key_of(dns.name.from_text("dup.s.test."))]
    rrset = node[1]
    assert sorted(rd.to_text() for rd in rrset) == ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    assert rrset.ttl == 60
    packed = node.raw(1)
    assert isinstance(packed, bytes) and len(packed) == 4 + 3 * (2 + 4)  # each once on the wire
    assert snap.record_count == ZoneSnapshot.from_rows(ORIGIN, rows).record_count + 3


def same_nodes(a: ZoneSnapshot, b: ZoneSnapshot) -> None:
    """Both snapshots hold the same nodes, byte for byte."""
    assert sorted(a.nodes) == sorted(b.nodes)
    for key, node in a.nodes.items():
        other = b.nodes[key]
        assert (node.below, node.owner_wire(), list(node)) == (
            other.below,
            other.owner_wire(),
            list(other),
        ), key
        for rdtype in node:
            assert node.raw(rdtype) == other.raw(rdtype), (key, rdtype)
    assert (a.record_count, a.serial) == (b.record_count, b.serial)


def test_a_snapshot_from_a_files_rows_is_the_one_read_back_once_they_are_stored() -> None:
    # A first import packs the rows it writes; a restart reads them back in
    # the store's order (owner key, type, then as written).
    zone = ZoneRows.of_records(RECORDS)
    stored = sorted(zone.rows, key=lambda r: (r[0], r[2]))
    same_nodes(
        ZoneSnapshot.from_groups(ORIGIN, zone.rows, zone.groups()),
        ZoneSnapshot.from_rows(ORIGIN, stored),
    )


def test_a_file_of_the_root_zone_packs_from_its_rows() -> None:
    root = dns.name.root
    zone = ZoneRows.of_records(
        [
            Record(root, 300, dns.rdata.from_text("IN", "SOA", "a.root. h.root. 7 2 3 4 5")),
            Record(n("Com."), 300, dns.rdata.from_text("IN", "NS", "ns.com.")),
            Record(root, 300, dns.rdata.from_text("IN", "NS", "a.root.")),
        ]
    )
    snap = ZoneSnapshot.from_groups(root, zone.rows, zone.groups())
    same_nodes(snap, ZoneSnapshot.from_rows(root, sorted(zone.rows, key=lambda r: (r[0], r[2]))))
    assert snap.serial == 7 and snap.record_count == 3
    assert snap.nodes[b"\x03com\x00"].owner_wire() == b"\x03Com\x00"
