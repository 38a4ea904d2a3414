"""Lay out a transfer's records and pack them into DNS messages.

An AXFR (RFC 5936 §2.2) is the SOA, every other record of the zone, and the
SOA again. An IXFR (RFC 1995 §4) is the new SOA, then the old SOA with the
records removed, the new SOA with the records added, and the new SOA to
close. Over TCP the records are split over as many messages as needed,
each up to 64 KiB; the question is in the first message only.
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
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.zonefile import Record

Question = tuple[dns.name.Name, int, int]

TCP_MESSAGE = 65535


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


def pack(
    rrsets: Iterable[dns.rrset.RRset],
    msg_id: int,
    flags: int,
    question: Question,
    size: int = TCP_MESSAGE,
) -> Iterator[bytes]:
    """Messages of at most ``size`` bytes that carry ``rrsets`` in order.

    An RRset too big for one message is split between messages.
    """
    renderer = _start(msg_id, flags, question, size)
    for rrset in rrsets:
        pending = [rrset]
        while pending:
            part = pending.pop()
            try:
                renderer.add_rrset(dns.renderer.ANSWER, part)
                continue
            except dns.exception.TooBig:
                pass
            if renderer.counts[dns.renderer.ANSWER]:
                yield _finish(renderer)
                renderer = _start(msg_id, flags, None, size)
                pending.append(part)
            elif len(part) > 1:
                items = list(part)
                half = len(items) // 2
                pending += [_subset(part, items[half:]), _subset(part, items[:half])]
            else:
                raise ValueError(f"the record {part} does not fit in one message")
    yield _finish(renderer)


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


def _subset(rrset: dns.rrset.RRset, items: list[object]) -> dns.rrset.RRset:
    out = dns.rrset.RRset(rrset.name, rrset.rdclass, rrset.rdtype)
    out.update_ttl(rrset.ttl)
    for rd in items:
        out.add(rd)  # type: ignore[arg-type]
    return out


def _start(msg_id: int, flags: int, question: Question | None, size: int) -> dns.renderer.Renderer:
    renderer = dns.renderer.Renderer(msg_id, flags, size)
    if question is not None:
        renderer.add_question(*question)
    return renderer


def _finish(renderer: dns.renderer.Renderer) -> bytes:
    renderer.write_header()
    return renderer.get_wire()
