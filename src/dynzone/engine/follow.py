"""Follow the store's change feed: turn journal entries written by another process
into the RRset changes that evolve our snapshot of the zone.

An entry lists the records it removed and added (the SOA among them). Applied
to the RRsets our snapshot holds, in order, they give the RRsets after the
change. When the entries do not follow on from our position (the journal was
trimmed, or the zone was created again), the zone is read whole instead.
"""

from __future__ import annotations

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from dynzone.engine.changeset import RRsetChanges
from dynzone.store.base import JournalEntry
from dynzone.zones.snapshot import ZoneSnapshot, key_of


def follows_on(entries: list[JournalEntry], position: int) -> bool:
    """Whether ``entries`` continue a zone known at ``position`` without a gap."""
    expected = position + 1
    for entry in entries:
        if entry.seq != expected or entry.creates_zone:
            return False
        expected += 1
    return True


def rrset_changes(snapshot: ZoneSnapshot, entries: list[JournalEntry]) -> RRsetChanges:
    """The RRsets ``entries`` leave behind, for ``snapshot.evolve`` (None: deleted)."""
    work: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = {}

    def current(name: dns.name.Name, rdtype: int) -> dns.rrset.RRset:
        rrset = work.get((name, rdtype))
        if rrset is None:
            node = snapshot.nodes.get(key_of(name))
            held = node.get(rdtype) if node is not None else None
            rrset = dns.rrset.RRset(name, dns.rdataclass.IN, dns.rdatatype.RdataType.make(rdtype))
            if held is not None:
                rrset.update(held)
                rrset.ttl = held.ttl
            work[(name, rdtype)] = rrset
        return rrset

    for entry in entries:
        for rec in entry.removed:
            current(rec.name, rec.rdata.rdtype).discard(rec.rdata)
        for rec in entry.added:
            rrset = current(rec.name, rec.rdata.rdtype)
            rrset.add(rec.rdata)
            rrset.ttl = rec.ttl
    return {k: (rrset if len(rrset) else None) for k, rrset in work.items()}
