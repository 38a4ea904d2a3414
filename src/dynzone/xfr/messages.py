"""Lay out a transfer's records and pack them into DNS messages.

An AXFR (RFC 5936 §2.2) is the SOA, every other record of the zone, and the
SOA again. An IXFR (RFC 1995 §4) is the new SOA, then the old SOA with the
records removed, the new SOA with the records added, and the new SOA to
close. packer.py packs them into as many messages as needed (TCP), or
``only_message`` into the single reply of a UDP IXFR.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import dns.flags
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from dynzone.xfr.ixfr import Difference
from dynzone.xfr.packer import Question, TooBig, WireSet, pack, wire_set
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.zonefile import Record

_SOA = dns.rdatatype.SOA


def axfr_sets(zone: ZoneSnapshot) -> Iterator[WireSet]:
    """Every RRset of ``zone``, between two copies of its SOA, as wire bytes:
    the snapshot's packed RRsets as they are (only RRsets a commit put in are
    packed here)."""
    soa = wire_set(zone.soa)
    yield soa
    for bucket in zone.nodes.buckets():
        for node in bucket.values():
            sets = node.sets
            if not sets:
                continue  # an empty non-terminal
            owner = node.key if node.owner is None else node.owner_wire()
            for i in range(0, len(sets), 2):
                rdtype, value = sets[i], sets[i + 1]
                if type(value) is bytes:
                    if rdtype != _SOA:
                        yield owner, rdtype, value  # type: ignore[misc]
                elif rdtype != _SOA:
                    yield wire_set(value)  # type: ignore[arg-type]
    yield soa


def ixfr_sets(diff: Difference, soa: dns.rrset.RRset) -> Iterator[WireSet]:
    """The single condensed difference sequence of an incremental transfer."""
    new = wire_set(soa)
    yield new
    yield wire_set(_rrsets([diff.old_soa])[0])
    yield from map(wire_set, _rrsets(diff.removed))
    yield new
    yield from map(wire_set, _rrsets(diff.added))
    yield new


def _rrsets(records: list[Record]) -> list[dns.rrset.RRset]:
    """Records grouped into RRsets of one owner, type and TTL, in first-seen order."""
    out: dict[tuple[dns.name.Name, int, int], dns.rrset.RRset] = {}
    for r in records:
        k = (r.name, r.rdata.rdtype, r.ttl)
        rrset = out.get(k)
        if rrset is None:
            rrset = out[k] = dns.rrset.RRset(r.name, dns.rdataclass.IN, r.rdata.rdtype)
            rrset.update_ttl(r.ttl)
        rrset.add(r.rdata)
    return list(out.values())


def only_message(
    sets: Iterable[WireSet], msg_id: int, flags: int, question: Question, size: int
) -> bytes | None:
    """``sets`` as one message of at most ``size`` bytes, or None if they do not fit."""
    messages = pack(sets, msg_id, flags, question, size)
    try:
        first = next(messages)
        if next(messages, None) is not None:
            return None
    except TooBig:
        return None
    return first


def reply_flags(request_flags: int) -> int:
    """An authoritative answer that keeps the request's RD bit (RFC 5936 §2.2.1)."""
    return dns.flags.QR | dns.flags.AA | (request_flags & dns.flags.RD)
