"""An immutable, indexed view of one zone, built once and read by every query.

A snapshot never changes after it is built; a reload or (later) an update
builds the next one and the catalog swaps a single reference, so queries never
wait on writes (DESIGN.md principle 3).

Names are indexed by their *key*: the wire form, lower-cased. Lower-casing
wire bytes is exact DNS case folding (only ASCII letters fold, and label
lengths are at most 63, below 'A'), hashing bytes is fast, and the suffixes of
a key at label boundaries are the keys of its ancestors.
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
_WILDCARD = b"\x01*"


def key_of(name: dns.name.Name) -> bytes:
    """The index key of an absolute name: its wire form, lower-cased."""
    return name.to_wire().lower()  # type: ignore[union-attr]


def parent_key(key: bytes) -> bytes:
    """The key of the parent name (the root is its own parent)."""
    return key[key[0] + 1 :] if key[0] else key


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

    ``owner`` is the key whose node applies: the query name (exact), the
    wildcard (wildcard), the cut (referral), the DNAME owner, or the closest
    encloser (nxdomain).
    """

    match: Match
    owner: bytes
    node: Node


class ZoneSnapshot:
    """Records of one zone indexed by owner key, plus its cuts and DNAMEs."""

    __slots__ = (
        "cuts",
        "dnames",
        "key",
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
        self.key = origin_key = key_of(origin)
        self.source = source
        nodes: dict[bytes, Node] = {}
        count = 0
        for rec in records:
            if not rec.name.is_subdomain(origin):
                continue
            node = nodes.setdefault(key_of(rec.name), {})
            rdtype = rec.rdata.rdtype
            rrset = node.get(rdtype)
            if rrset is None:
                rrset = node[rdtype] = dns.rrset.RRset(rec.name, rec.rdata.rdclass, rdtype)
            before = len(rrset)
            rrset.add(rec.rdata, rec.ttl)
            count += len(rrset) - before
        # Empty non-terminals exist (RFC 4592 §2.2.2): give them empty nodes.
        for key in list(nodes):
            while key != origin_key:
                key = parent_key(key)
                if key in nodes:
                    break
                nodes[key] = {}
        self._index(nodes, count)

    def _index(self, nodes: dict[bytes, Node], count: int) -> None:
        origin = self.origin
        origin_key = self.key
        self.nodes = nodes
        self.record_count = count
        apex = nodes.get(origin_key, _EMPTY)
        if dns.rdatatype.SOA not in apex or dns.rdatatype.NS not in apex:
            raise ValueError(f"zone {origin} needs an SOA and NS records at its apex")
        self.soa = apex[dns.rdatatype.SOA]
        self.ns = apex[dns.rdatatype.NS]
        # RFC 2308 §3: the negative TTL is the lesser of the SOA's TTL and MINIMUM.
        neg = dns.rrset.RRset(origin, self.soa.rdclass, dns.rdatatype.SOA)
        neg.add(self.soa[0], min(self.soa.ttl, self.soa[0].minimum))
        self.negative_soa = neg
        self.cuts = frozenset(
            k for k, node in nodes.items() if k != origin_key and dns.rdatatype.NS in node
        )
        self.dnames = frozenset(k for k, node in nodes.items() if dns.rdatatype.DNAME in node)

    def evolve(
        self, changes: dict[tuple[dns.name.Name, int], dns.rrset.RRset | None]
    ) -> ZoneSnapshot:
        """The next snapshot: this one with some RRsets replaced (None deletes one).

        Only the touched nodes are rebuilt; the rest are shared with this
        snapshot, which stays valid for the queries still reading it.
        """
        nodes = dict(self.nodes)
        count = self.record_count
        touched: set[bytes] = set()
        for (name, rdtype), rrset in changes.items():
            key = key_of(name)
            node = dict(nodes.get(key, _EMPTY))
            old = node.pop(rdtype, None)
            if old is not None:
                count -= len(old)
            if rrset is not None and len(rrset):
                node[rdtype] = rrset
                count += len(rrset)
            nodes[key] = node
            touched.add(key)
        for key in touched:
            if nodes[key]:
                # A new name brings its empty non-terminals with it.
                parent = key
                while parent != self.key:
                    parent = parent_key(parent)
                    if parent in nodes:
                        break
                    nodes[parent] = {}
            else:
                _prune(nodes, key, self.key)
        out = object.__new__(ZoneSnapshot)
        out.origin = self.origin
        out.key = self.key
        out.source = self.source
        out._index(nodes, count)
        return out

    @property
    def serial(self) -> int:
        return int(self.soa[0].serial)

    def find(self, key: bytes, qtype: int) -> Lookup:
        """Find what answers ``key`` in this zone (RFC 1034 §4.3.2 step 3).

        The walk goes down from the apex so that a cut or DNAME above the name
        wins over anything stored below it (occluded data is never answered).
        """
        nodes = self.nodes
        origin_key = self.key
        # Offsets of the labels between the apex and the query name, top last.
        depth_end = len(key) - len(origin_key)
        offsets = []
        i = 0
        while i < depth_end:
            offsets.append(i)
            i += key[i] + 1
        if offsets and origin_key in self.dnames:
            return Lookup(Match.DNAME, origin_key, nodes[origin_key])
        encloser = origin_key
        for j in range(len(offsets) - 1, -1, -1):
            name = key[offsets[j] :] if j else key
            node = nodes.get(name)
            if node is None:
                break
            encloser = name
            if name in self.cuts and not (j == 0 and qtype == dns.rdatatype.DS):
                return Lookup(Match.REFERRAL, name, node)
            if j and name in self.dnames:
                return Lookup(Match.DNAME, name, node)
        else:
            return Lookup(Match.EXACT, key, nodes[key])
        wildcard_key = _WILDCARD + encloser
        wildcard = nodes.get(wildcard_key)
        if wildcard is not None:
            return Lookup(Match.WILDCARD, wildcard_key, wildcard)
        return Lookup(Match.NXDOMAIN, encloser, _EMPTY)

    def addresses_for(
        self, target: dns.name.Name, allow_glue: bool, key: bytes | None = None
    ) -> list[dns.rrset.RRset]:
        """A and AAAA RRsets for ``target`` from this zone, for the additional section.

        Glue (data at or below a cut) is used only for referrals; a name that
        does not exist may be covered by a wildcard.
        """
        if key is None:
            key = key_of(target)
        if not key.endswith(self.key):
            return []
        look = self.find(key, dns.rdatatype.A)
        if look.match is Match.REFERRAL:
            if not allow_glue:
                return []
            node = self.nodes.get(key)
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
                out.append(rrset if look.match is Match.EXACT else rename(rrset, target))
        return out


def rename(rrset: dns.rrset.RRset, owner: dns.name.Name) -> dns.rrset.RRset:
    """The same records under another owner name (wildcard synthesis)."""
    out = dns.rrset.RRset(owner, rrset.rdclass, rrset.rdtype)
    out.update(rrset)
    out.ttl = rrset.ttl
    return out


def _prune(nodes: dict[bytes, Node], key: bytes, origin_key: bytes) -> None:
    """Drop an empty node, and empty ancestors, unless something lives below them."""
    while key != origin_key and key in nodes and not nodes[key]:
        suffix = key
        if any(k != suffix and k.endswith(suffix) and _below(k, suffix) for k in nodes):
            return
        del nodes[key]
        key = parent_key(key)


def _below(key: bytes, ancestor: bytes) -> bool:
    """True if ``key`` is a proper descendant of ``ancestor`` (label-aligned)."""
    i = 0
    while len(key) - i > len(ancestor):
        i += key[i] + 1
    return len(key) - i == len(ancestor) and key[i:] == ancestor
