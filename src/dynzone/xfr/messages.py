"""Lay out a transfer's records and pack them into DNS messages.

An AXFR (RFC 5936 §2.2) is the SOA, every other record of the zone, and the
SOA again. An IXFR (RFC 1995 §4) is the new SOA, then the old SOA with the
records removed, the new SOA with the records added, and the new SOA to
close. Over TCP packer.py packs them into as many messages as needed;
``only_message`` makes the single reply of a UDP IXFR with dnspython.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import dns.exception
import dns.flags
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.renderer
import dns.rrset

from dynzone.xfr.ixfr import Difference
from dynzone.xfr.packer import Question
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.zonefile import Record


def axfr_rrsets(zone: ZoneSnapshot) -> Iterator[dns.rrset.RRset]:
    """Every RRset of ``zone``, between two copies of its SOA."""
    yield zone.soa
    for node in zone.nodes.values():
        for rdtype, rrset in node.items():
            if rdtype != dns.rdatatype.SOA:
                yield rrset
    yield zone.soa


def ixfr_rrsets(diff: Difference, soa: dns.rrset.RRset) -> Iterator[dns.rrset.RRset]:
    """The single condensed difference sequence of an incremental transfer."""
    yield soa
    yield _rrsets([diff.old_soa])[0]
    yield from _rrsets(diff.removed)
    yield soa
    yield from _rrsets(diff.added)
    yield soa


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
    rrsets: Iterable[dns.rrset.RRset], msg_id: int, flags: int, question: Question, size: int
) -> bytes | None:
    """``rrsets`` as one message of at most ``size`` bytes, or None if they do not fit."""
    renderer = _start(msg_id, flags, question, size)
    try:
        for rrset in rrsets:
            renderer.add_rrset(dns.renderer.ANSWER, rrset)
    except dns.exception.TooBig:
        return None
    return _finish(renderer)


def reply_flags(request_flags: int) -> int:
    """An authoritative answer that keeps the request's RD bit (RFC 5936 §2.2.1)."""
    return dns.flags.QR | dns.flags.AA | (request_flags & dns.flags.RD)


def _start(msg_id: int, flags: int, question: Question | None, size: int) -> dns.renderer.Renderer:
    renderer = dns.renderer.Renderer(msg_id, flags, size)
    if question is not None:
        renderer.add_question(*question)
    return renderer


def _finish(renderer: dns.renderer.Renderer) -> bytes:
    renderer.write_header()
    return renderer.get_wire()
