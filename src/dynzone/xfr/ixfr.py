"""What an IXFR carries (RFC 1995): the journal's changes between two serials.

The entries from the client's serial to the snapshot's are condensed into one
difference: a record removed and later added back (or added and later
removed) cancels out. Records are compared with their TTL, so a TTL change
stays a removal plus an addition, which is how a secondary must apply it.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.name
import dns.rdata
import dns.rdatatype

from dynzone.store.base import JournalEntry
from dynzone.zones.zonefile import Record

_RecordKey = tuple[dns.name.Name, int, dns.rdata.Rdata]


@dataclass(frozen=True)
class Difference:
    """The condensed change from ``old_soa`` to the current SOA."""

    old_soa: Record
    removed: list[Record]
    added: list[Record]


def chain(
    entries: list[JournalEntry], serial_from: int, serial_to: int
) -> list[JournalEntry] | None:
    """The entries leading from ``serial_from`` to ``serial_to``, or None if they do not.

    ``entries`` may run past ``serial_to`` (a commit the snapshot being sent
    does not have yet); those are left out.
    """
    out = []
    at = serial_from
    for e in entries:
        if at == serial_to:
            break
        if e.serial_from != at or e.creates_zone:
            return None  # a gap: an entry was dropped, written out of order, or is a creation
        out.append(e)
        at = e.serial_to
    return out if at == serial_to and out else None


def condense(entries: list[JournalEntry]) -> Difference:
    """One difference equal to applying ``entries`` in order (SOA records set apart)."""
    old_soa = next(r for r in entries[0].removed if r.rdata.rdtype == dns.rdatatype.SOA)
    removed: dict[tuple[_RecordKey, int], Record] = {}
    added: dict[tuple[_RecordKey, int], Record] = {}
    for e in entries:
        # A removal undoes an earlier addition, and an addition an earlier removal.
        for records, undo, into in ((e.removed, added, removed), (e.added, removed, added)):
            for r in records:
                if r.rdata.rdtype == dns.rdatatype.SOA:
                    continue
                k = ((r.name, r.rdata.rdtype, r.rdata), r.ttl)
                if undo.pop(k, None) is None:
                    into[k] = r
    return Difference(old_soa, list(removed.values()), list(added.values()))
