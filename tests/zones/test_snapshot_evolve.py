"""Evolving a snapshot: the same zone as building it anew, and the tags of what changed."""

from __future__ import annotations

import random

import dns.name
import dns.rdata
import dns.rdatatype
import dns.rrset

from dynzone.zones.deps import node_tag, rrset_tag, serial_tag, zone_tag
from dynzone.zones.snapshot import ZoneSnapshot, key_of
from dynzone.zones.zonefile import read_zone_text

ORIGIN = dns.name.from_text("example.com")
ZONE = """
$ORIGIN example.com.
$TTL 300
@     SOA ns1 hostmaster 1 3600 600 86400 60
@     NS  ns1
ns1   A   192.0.2.1
www   A   192.0.2.2
x.y.z A   192.0.2.3
"""
A = dns.rdatatype.A


def rrset(name: str, rdtype: str, *rdatas: str, ttl: int = 60) -> dns.rrset.RRset:
    return dns.rrset.from_text(name, ttl, "IN", rdtype, *rdatas)


def fresh() -> ZoneSnapshot:
    return ZoneSnapshot(ORIGIN, read_zone_text(ZONE, ORIGIN))


def content(snapshot: ZoneSnapshot) -> dict[bytes, dict[int, list[str]]]:
    """Every node's RRsets as sorted "TTL rdata" lines."""
    return {
        key: {t: sorted(f"{rrset.ttl} {rd}" for rd in rrset) for t, rrset in node.items()}
        for key, node in snapshot.nodes.items()
    }


def test_a_new_name_brings_its_empty_non_terminals_and_tags_them() -> None:
    old = fresh()
    new, tags = old.evolve(
        {(dns.name.from_text("a.b.c.example.com"), A): rrset("a.b.c.example.com", "A", "192.0.2.9")}
    )
    for name in ("a.b.c", "b.c", "c"):
        key = key_of(dns.name.from_text(f"{name}.example.com"))
        assert key in new.nodes and node_tag(key) in tags
    assert rrset_tag(key_of(dns.name.from_text("a.b.c.example.com")), A) in tags
    assert new.record_count == old.record_count + 1
    assert key_of(dns.name.from_text("b.c.example.com")) not in old.nodes  # old is untouched


def test_deleting_the_last_name_below_prunes_its_empty_parents() -> None:
    old = fresh()
    new, tags = old.evolve({(dns.name.from_text("x.y.z.example.com"), A): None})
    for name in ("x.y.z", "y.z", "z"):
        key = key_of(dns.name.from_text(f"{name}.example.com"))
        assert key not in new.nodes and node_tag(key) in tags
    assert new.nodes[key_of(ORIGIN)].below == 2  # ns1 and www


def test_a_serial_change_changes_only_the_serial_tag() -> None:
    old = fresh()
    soa = old.soa[0].replace(serial=2)
    new, tags = old.evolve(
        {(ORIGIN, dns.rdatatype.SOA): rrset("example.com", "SOA", soa.to_text(), ttl=300)}
    )
    assert tags == {serial_tag(old.key)} and new.serial == 2
    assert new.wide_tags == old.wide_tags


def test_changing_the_apex_ns_changes_the_zone_tag() -> None:
    old = fresh()
    _, tags = old.evolve(
        {
            (ORIGIN, dns.rdatatype.NS): rrset(
                "example.com", "NS", "ns1.example.com.", "ns2.example.net."
            )
        }
    )
    assert zone_tag(old.key) in tags
    # ...and so does the address of a name server.
    _, tags = old.evolve(
        {(dns.name.from_text("ns1.example.com"), A): rrset("ns1.example.com", "A", "192.0.2.50")}
    )
    assert zone_tag(old.key) in tags


def test_a_random_history_evolves_into_what_building_anew_gives() -> None:
    rng = random.Random(2136)
    names = ["www", "a", "b.a", "c.b.a", "x.y.z", "y.z", "z", "*", "*.w", "q.w", "deep.er.est"]
    snapshot = fresh()
    records = {(r.name, r.rdata.rdtype): [r] for r in read_zone_text(ZONE, ORIGIN)}
    for _ in range(300):
        name = dns.name.from_text(f"{rng.choice(names)}.example.com")
        rdtype = rng.choice(["A", "TXT", "MX"])
        key = (name, dns.rdatatype.from_text(rdtype))
        if rng.random() < 0.4:
            snapshot, _ = snapshot.evolve({key: None})
            records.pop(key, None)
        else:
            text = {
                "A": f"192.0.2.{rng.randrange(250)}",
                "TXT": f'"{rng.randrange(9)}"',
                "MX": "10 www.example.com.",
            }[rdtype]
            new = rrset(name.to_text(), rdtype, text)
            snapshot, _ = snapshot.evolve({key: new})
            records[key] = [r for r in read_zone_text(f"{name} 60 IN {rdtype} {text}", ORIGIN)]
        rebuilt = ZoneSnapshot(ORIGIN, [r for rs in records.values() for r in rs])
        assert content(snapshot) == content(rebuilt)
        assert snapshot.record_count == rebuilt.record_count
        assert {k: n.below for k, n in snapshot.nodes.items()} == {
            k: n.below for k, n in rebuilt.nodes.items()
        }
