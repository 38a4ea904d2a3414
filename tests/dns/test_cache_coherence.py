"""Caching never changes an answer: after every commit of a long random stream of
changes, the cached fast-path reply to each of a broad set of questions equals
a reply computed from scratch from the store.

The stream adds and deletes addresses, TXT, MX, CNAME and DNAME records
(chains within and across zones), wildcards, delegations with glue, empty
non-terminals, the apex's NS, MX and A records and the SOA's fields, in three
zones, one of them a served child of another. Some changes are committed by
a second engine on the same store, as another process would, and reach the
engine under test through its change feed. The fresh side builds every zone
anew from the store's records and answers without any cache, so the test
checks evolved snapshots and cache retirement together.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rdata
import dns.rdatatype
import dns.rrset
import pytest

from dynzone.dns.responder import Responder, question_of
from dynzone.engine.catalog import Catalog
from dynzone.engine.changeset import (
    ChangeRejected,
    ChangeSet,
    DeleteRRset,
    Op,
    SetRRset,
    ZoneChange,
)
from dynzone.engine.engine import Engine
from dynzone.engine.settings import ZoneSettings
from dynzone.store import open_store
from dynzone.zones.sync import bring_in_line
from dynzone.zones.zonefile import Record

ZONES = {
    "example.test.": """
@        SOA ns1 hostmaster 1 3600 600 86400 60
@        NS  ns1
@        NS  ns2.other.test.
@        MX  10 mail
ns1      A   192.0.2.1
mail     A   192.0.2.2
www      A   192.0.2.3
alias    CNAME www
*.w      A   192.0.2.4
x.y.ent  A   192.0.2.5
child    NS  ns.child
ns.child A   192.0.2.6
sub      NS  ns.sub
ns.sub   A   192.0.2.7
d        DNAME other.test.
srv._tcp SRV 0 0 80 www
""",
    "child.example.test.": """
@        SOA ns hostmaster 1 3600 600 86400 30
@        NS  ns
ns       A   192.0.2.6
host     A   192.0.2.8
""",
    "other.test.": """
@        SOA ns1 hostmaster 1 3600 600 86400 120
@        NS  ns1
ns1      A   192.0.2.9
ns2      A   192.0.2.10
to-www   CNAME www.example.test.
a        A   192.0.2.11
""",
}

# Names the changes touch and the questions ask about, per zone ("@" is the apex).
NAMES = {
    "example.test.": [
        "@", "www", "alias", "mail", "ns1", "a", "b", "c.b", "*.w", "q.w", "w", "x.y.ent",
        "y.ent", "ent", "new", "deep.er", "er", "d", "t.d", "sub", "ns.sub", "a.sub", "child",
        "ns.child", "*", "zz", "srv._tcp",
    ],
    "child.example.test.": ["@", "host", "ns", "x", "*.x", "y.x"],
    "other.test.": ["@", "a", "to-www", "ns1", "ns2", "b", "*", "nx"],
}  # fmt: skip
QTYPES = ["A", "AAAA", "TXT", "MX", "CNAME", "NS", "SOA", "DS", "ANY", "SRV"]
ADDRESSES = ["192.0.2.50", "192.0.2.51", "192.0.2.52"]


def absolute(zone: str, rel: str) -> dns.name.Name:
    return dns.name.from_text(zone if rel == "@" else f"{rel}.{zone}")


def rd(rdtype: str, text: str) -> dns.rdata.Rdata:
    return dns.rdata.from_text("IN", rdtype, text)


def random_target(rng: random.Random) -> str:
    zone = rng.choice(list(NAMES))
    return absolute(zone, rng.choice(NAMES[zone])).to_text().replace("*", "star")


def random_ops(rng: random.Random, zone: str) -> list[Op]:
    """One to three random operations on ``zone``."""
    ops: list[Op] = []
    for _ in range(rng.randint(1, 3)):
        rel = rng.choice(NAMES[zone])
        name = absolute(zone, rel)
        ttl = rng.choice([60, 300])
        roll = rng.random()
        if rel == "@" and roll < 0.5:
            choice = rng.randrange(3)
            if choice == 0:
                targets = rng.sample([f"ns1.{zone}", "ns2.other.test.", f"mail.{zone}"], 2)
                ops.append(
                    SetRRset(name, dns.rdatatype.NS, 300, tuple(rd("NS", t) for t in targets))
                )
            elif choice == 1:
                ops.append(
                    SetRRset(name, dns.rdatatype.MX, ttl, (rd("MX", f"10 {random_target(rng)}"),))
                )
            else:
                ops.append(SetRRset(name, dns.rdatatype.A, ttl, (rd("A", rng.choice(ADDRESSES)),)))
        elif roll < 0.25:
            addrs = rng.sample(ADDRESSES, rng.randint(1, 2))
            ops.append(SetRRset(name, dns.rdatatype.A, ttl, tuple(rd("A", a) for a in addrs)))
        elif roll < 0.35:
            ops.append(DeleteRRset(name, dns.rdatatype.A))
        elif roll < 0.42:
            ops.append(SetRRset(name, dns.rdatatype.AAAA, ttl, (rd("AAAA", "2001:db8::1"),)))
        elif roll < 0.50:
            ops.append(
                SetRRset(name, dns.rdatatype.TXT, ttl, (rd("TXT", f'"v{rng.randrange(3)}"'),))
            )
        elif roll < 0.58:
            ops.append(SetRRset(name, dns.rdatatype.CNAME, ttl, (rd("CNAME", random_target(rng)),)))
        elif roll < 0.64:
            ops.append(DeleteRRset(name, dns.rdatatype.CNAME))
        elif roll < 0.70:
            ops.append(
                SetRRset(name, dns.rdatatype.MX, ttl, (rd("MX", f"5 {random_target(rng)}"),))
            )
        elif roll < 0.76 and rel != "@":
            # A delegation with its glue below the cut.
            ns = dns.name.from_text("ns", name)
            ops.append(SetRRset(name, dns.rdatatype.NS, ttl, (rd("NS", ns.to_text()),)))
            ops.append(SetRRset(ns, dns.rdatatype.A, ttl, (rd("A", rng.choice(ADDRESSES)),)))
        elif roll < 0.82:
            ops.append(DeleteRRset(name, dns.rdatatype.NS))
        elif roll < 0.87 and rel != "@":
            ops.append(SetRRset(name, dns.rdatatype.DNAME, ttl, (rd("DNAME", random_target(rng)),)))
        elif roll < 0.92:
            ops.append(DeleteRRset(name, dns.rdatatype.DNAME))
        else:
            ops += [
                DeleteRRset(name, t) for t in (dns.rdatatype.A, dns.rdatatype.TXT, dns.rdatatype.MX)
            ]
    return ops  # fmt: skip


def random_changeset(rng: random.Random, engine: Engine) -> ChangeSet:
    zones = rng.sample(list(NAMES), 2 if rng.random() < 0.15 else 1)
    changes = []
    for zone in zones:
        soa = None
        if rng.random() < 0.05:
            held = engine.snapshot(dns.name.from_text(zone))
            assert held is not None
            new = held.soa[0].replace(minimum=rng.choice([30, 60, 90]))
            soa = Record(held.origin, rng.choice([300, 3600]), new)
        changes.append(ZoneChange(dns.name.from_text(zone), tuple(random_ops(rng, zone)), soa=soa))
    return ChangeSet("test", "-", tuple(changes))


def questions(rng: random.Random) -> list[tuple[bytes, bool]]:
    """Every question as query bytes (name in a random but fixed letter case), and
    whether it is asked over TCP."""
    out = []
    for zone, names in NAMES.items():
        for rel in names:
            name = absolute(zone, rel).to_text()
            for qtype in QTYPES:
                variant = rng.randrange(3)  # plain UDP, EDNS with DO, or TCP
                cased = "".join(c.upper() if rng.random() < 0.3 else c for c in name)
                q = dns.message.make_query(
                    cased, qtype, use_edns=variant > 0, want_dnssec=variant == 1
                )
                q.flags = dns.flags.RD if rng.random() < 0.5 else 0
                out.append((q.to_wire(), variant == 2))
    return out  # fmt: skip


def shape(wire: bytes) -> tuple[object, ...]:
    """What a reply says, with sections as sorted records (TTLs included). Names
    compare without letter case: compression may borrow the question's."""
    msg = dns.message.from_wire(wire)

    def records(section: list[dns.rrset.RRset]) -> list[str]:
        return sorted(f"{rr.name} {rr.ttl} {rr.rdtype} {r}".lower() for rr in section for r in rr)

    return (
        msg.id,
        msg.flags,
        msg.rcode(),
        msg.edns,
        msg.payload,
        records(msg.answer),
        records(msg.authority),
        records(msg.additional),
    )


def fresh_responder(engine: Engine) -> Responder:
    """A responder over zones built anew from the store, with nothing cached."""
    snapshots = []
    for name in NAMES:
        origin = dns.name.from_text(name)
        stored = engine.store.load_zone(origin)
        assert stored is not None
        snapshots.append(stored.snapshot)
    return Responder(Catalog(snapshots))


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    settings = []
    for name, text in ZONES.items():
        path = tmp_path / f"{name}zone"
        path.write_text(f"$ORIGIN {name}\n$TTL 300\n{text}")
        settings.append(ZoneSettings(dns.name.from_text(name), file=path))
    engine = Engine(open_store(tmp_path), settings, lambda: open_store(tmp_path))
    bring_in_line(engine, settings, strict=True)
    # Another process on the same store.
    other = Engine(open_store(tmp_path), settings, lambda: open_store(tmp_path))
    yield engine, other
    engine.close()
    other.close()


@pytest.mark.parametrize("seed", [1, int(os.environ.get("DYNZONE_CACHE_SEED", "2"))])
def test_cached_answers_equal_fresh_ones_after_every_commit(
    engines: tuple[Engine, Engine], seed: int
) -> None:
    engine, other = engines
    rng = random.Random(seed)
    responder = Responder(engine.catalog)
    engine.on_swap(responder.use)
    asked = questions(rng)
    commits = refused = followed = 0
    kept: list[float] = []
    for _ in range(100):
        before = set(engine.catalog.cache)
        changeset = random_changeset(rng, engine)
        try:
            if rng.random() < 0.2:
                other.commit_now(changeset)
                engine.follow()
                followed += 1
            else:
                engine.commit_now(changeset)
            commits += 1
        except ChangeRejected:
            refused += 1
        if before:
            kept.append(len(before & set(engine.catalog.cache)) / len(before))
        fresh = fresh_responder(engine)
        for wire, tcp in asked:
            cached = responder.respond(wire, tcp)
            assert isinstance(cached, bytes)
            msg = dns.message.from_wire(wire)
            question = question_of(wire)
            assert question is not None
            expected = fresh.answer(msg, question, tcp)
            assert shape(cached) == shape(expected), (
                f"seed {seed}, after {commits} commits: {question[0]} "
                f"{dns.rdatatype.to_text(question[1])} tcp={tcp}"
            )
    assert commits > 50 and followed > 10, (commits, refused, followed)
    # The point of it all: a commit keeps most of what was cached.
    assert sum(kept) / len(kept) > 0.6, kept
