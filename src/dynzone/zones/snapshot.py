"""An immutable, indexed view of one zone, built once and read by every query.

A snapshot never changes after it is built; a reload or (later) an update
builds the next one and the catalog swaps a single reference, so queries never
wait on writes (DESIGN.md principle 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import dns.name
import dns.rdatatype
import dns.rrset

from dynzone.zones.zonefile import Record

Node = dict[int, dns.rrset.RRset]
_EMPTY: Node = {}
WILDCARD_LABEL = b"*"


class Match(Enum):
    """What a name lookup inside one zone found."""

    EXACT = "exact"  # the name exists (possibly as an empty non-terminal)
    WILDCARD = "wildcard"  # synthesised from *.<closest encloser> (RFC 4592)
    NXDOMAIN = "nxdomain"  # no such name, no wildcard
    REFERRAL = "referral"  # at or below a delegation point (zone cut)
    DNAME = "dname"  # below a DNAME owner (RFC 6672)


@dataclass(frozen=True, slots=True)
class Lookup:
    """The result of ``ZoneSnapshot.find``.

    ``owner`` is the name whose data applies: the query name (exact/wildcard),
    the cut (referral), the DNAME owner, or the closest encloser (nxdomain).
    """

    match: Match
    owner: dns.name.Name
    node: Node


class ZoneSnapshot:
    """Records of one zone indexed by owner name, plus its cuts and DNAMEs."""

    __slots__ = (
        "cuts",
        "dnames",
        "negative_soa",
        "nodes",
        "ns",
        "origin",
        "record_count",
        "soa",
        "source",
    )

    def __init__(self, origin: dns.name.Name, records: list[Record], source: str = "") -> None:
        self.origin = origin
        self.source = source
        nodes: dict[dns.name.Name, Node] = {}
        count = 0
        for rec in records:
            if not rec.name.is_subdomain(origin):
                continue
            node = nodes.setdefault(rec.name, {})
            rdtype = rec.rdata.rdtype
            rrset = node.get(rdtype)
            if rrset is None:
                rrset = node[rdtype] = dns.rrset.RRset(rec.name, rec.rdata.rdclass, rdtype)
            before = len(rrset)
            rrset.add(rec.rdata, rec.ttl)
            count += len(rrset) - before
        # Empty non-terminals exist (RFC 4592 §2.2.2): give them empty nodes.
        for name in list(nodes):
            parent = name
            while parent != origin:
                parent = parent.parent()
                if parent in nodes:
                    break
                nodes[parent] = {}
        self.nodes = nodes
        self.record_count = count
        apex = nodes.get(origin, _EMPTY)
        if dns.rdatatype.SOA not in apex or dns.rdatatype.NS not in apex:
            raise ValueError(f"zone {origin} needs an SOA and NS records at its apex")
        self.soa = apex[dns.rdatatype.SOA]
        self.ns = apex[dns.rdatatype.NS]
        # RFC 2308 §3: the negative TTL is the lesser of the SOA's TTL and MINIMUM.
        neg = dns.rrset.RRset(origin, self.soa.rdclass, dns.rdatatype.SOA)
        neg.add(self.soa[0], min(self.soa.ttl, self.soa[0].minimum))  # type: ignore[attr-defined]
        self.negative_soa = neg
        self.cuts = frozenset(
            n for n, node in nodes.items() if n != origin and dns.rdatatype.NS in node
        )
        self.dnames = frozenset(n for n, node in nodes.items() if dns.rdatatype.DNAME in node)

    @property
    def serial(self) -> int:
        return int(self.soa[0].serial)  # type: ignore[attr-defined]

    def find(self, qname: dns.name.Name, qtype: int) -> Lookup:
        """Find what answers ``qname`` in this zone (RFC 1034 §4.3.2 step 3).

        The walk goes down from the apex so that a cut or DNAME above the name
        wins over anything stored below it (occluded data is never answered).
        """
        nodes = self.nodes
        depth = len(qname) - len(self.origin)
        ancestors = [qname]
        for _ in range(depth):
            ancestors.append(ancestors[-1].parent())
        ancestors.reverse()  # origin first, qname last
        encloser = self.origin
        for name in ancestors:
            node = nodes.get(name)
            if node is None:
                break
            encloser = name
            if name in self.cuts and not (name == qname and qtype == dns.rdatatype.DS):
                return Lookup(Match.REFERRAL, name, node)
            if name != qname and name in self.dnames:
                return Lookup(Match.DNAME, name, node)
        else:
            return Lookup(Match.EXACT, qname, nodes[qname])
        wildcard = nodes.get(dns.name.Name((WILDCARD_LABEL, *encloser.labels)))
        if wildcard is not None:
            return Lookup(Match.WILDCARD, qname, wildcard)
        return Lookup(Match.NXDOMAIN, encloser, _EMPTY)

    def addresses_for(self, target: dns.name.Name, allow_glue: bool) -> list[dns.rrset.RRset]:
        """A and AAAA RRsets for ``target`` from this zone, for the additional section.

        Glue (data at or below a cut) is used only for referrals; a name that
        does not exist may be covered by a wildcard.
        """
        if not target.is_subdomain(self.origin):
            return []
        look = self.find(target, dns.rdatatype.A)
        if look.match is Match.REFERRAL:
            if not allow_glue:
                return []
            node = self.nodes.get(target)
            if node is None:
                return []
        elif look.match is Match.EXACT or look.match is Match.WILDCARD:
            node = look.node
        else:
            return []
        out = []
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            rrset = node.get(rdtype)
            if rrset is not None:
                out.append(rrset if rrset.name == target else rename(rrset, target))
        return out


def rename(rrset: dns.rrset.RRset, owner: dns.name.Name) -> dns.rrset.RRset:
    """The same records under another owner name (wildcard synthesis)."""
    out = dns.rrset.RRset(owner, rrset.rdclass, rrset.rdtype)
    out.update(rrset)
    out.ttl = rrset.ttl
    return out
