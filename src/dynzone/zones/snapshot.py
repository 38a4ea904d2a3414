"""An immutable, indexed view of one zone, built once and read by every query.

A snapshot never changes after it is built; a commit builds the next one with
``evolve`` (at the cost of the change, not of the zone: nodes live in a
``NodeMap``) and the engine swaps a single reference, so queries never wait
on writes.

Names are indexed by their *key*: the wire form, lower-cased. Lower-casing
wire bytes is exact DNS case folding (only ASCII letters fold, and label
lengths are at most 63, below 'A'), hashing bytes is fast, and the suffixes of
a key at label boundaries are the keys of its ancestors.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import dns.name
import dns.rdatatype
import dns.rrset

from dynzone.heap import collector_paused
from dynzone.zones.deps import Deps, node_tag, rrset_tag, serial_tag, zone_tag
from dynzone.zones.names import (
    LENGTH_BYTE,
    key_from,
    key_from_text,
    key_of,
    key_within,
    name_text,
    name_wire,
    wire_of,
)
from dynzone.zones.node import Held, Node, pack, size, unpack
from dynzone.zones.nodemap import NodeMap
from dynzone.zones.serial import soa_fields
from dynzone.zones.trusted_rdata import stored_name
from dynzone.zones.wire import fresh_wire
from dynzone.zones.zonefile import Record

_NS = dns.rdatatype.NS
_DNAME = dns.rdatatype.DNAME
_SOA = dns.rdatatype.SOA
_DS = dns.rdatatype.DS
_WILDCARD = b"\x01*"

_EMPTY = Node(b"")

# A stored record as the store reads it: the owner's lower-cased text, its
# text as written, type, TTL and rdata in wire form.
StoredRow = tuple[str, str, int, int, bytes]


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
    """Records of one zone indexed by owner key."""

    __slots__ = (
        "_negative_soa",
        "_ns",
        "_ns_targets",
        "_soa",
        "_wide",
        "apex",
        "key",
        "nodes",
        "origin",
        "record_count",
        "serial_wire",
    )

    def __init__(self, origin: dns.name.Name, records: Iterable[Record]) -> None:
        """The snapshot of ``records`` (those outside the zone are left out)."""
        self.origin = origin
        self.key = key_of(origin)
        with collector_paused(freeze=True):
            self._build(records)

    def _build(self, records: Iterable[Record]) -> None:
        origin_key = self.key
        # key -> (owner as written, {type: (lowest TTL, {rdata: None})})
        groups: dict[bytes, tuple[dns.name.Name, dict[int, list]]] = {}
        for rec in records:
            key = key_from(rec.name)
            group = groups.get(key)
            if group is None:
                if not key_within(key, origin_key):
                    continue
                group = groups[key] = (rec.name, {})
            rdata = rec.rdata
            held = group[1].get(rdata.rdtype)
            if held is None:
                group[1][rdata.rdtype] = [rec.ttl, {rdata: None}]
            else:
                # dnspython's rules: a set's TTL is the lowest of its records',
                # and of a singleton type (CNAME, SOA...) the last record stays.
                held[0] = min(held[0], rec.ttl)
                if dns.rdatatype.is_singleton(rdata.rdtype):
                    held[1].clear()
                held[1][rdata] = None
        nodes: dict[bytes, Node] = {}
        count = 0
        for key, (name, types) in groups.items():
            sets: list[int | Held] = []
            for rdtype, (ttl, rdatas) in types.items():
                sets += (rdtype, pack(ttl, [fresh_wire(rd) for rd in rdatas]))
                count += len(rdatas)
            written = None if name_wire(name) == key else name
            nodes[key] = Node(key, tuple(sets), 0, written)
        self._index(_with_ancestors(nodes, origin_key), count)

    @classmethod
    def from_rows(cls, origin: dns.name.Name, rows: Iterable[StoredRow]) -> ZoneSnapshot:
        """The snapshot of records read from the store, sorted by owner key then
        type. Nothing is parsed: each RRset is packed from the stored wire bytes
        (the store holds valid records, each once)."""
        with collector_paused(freeze=True):
            return cls._from_rows(origin, rows)

    @classmethod
    def from_groups(
        cls,
        origin: dns.name.Name,
        rows: Sequence[StoredRow],
        groups: Mapping[str, Mapping[int, list[int]]],
    ) -> ZoneSnapshot:
        """The snapshot of a zone file's rows, given the indices of each owner's rows
        by type (``ZoneRows.groups``): what ``from_rows`` builds from the same rows
        once stored, without reading them back."""
        with collector_paused(freeze=True):
            return cls._from_groups(origin, rows, groups)

    @classmethod
    def _from_groups(
        cls,
        origin: dns.name.Name,
        rows: Sequence[StoredRow],
        groups: Mapping[str, Mapping[int, list[int]]],
    ) -> ZoneSnapshot:
        origin_key = key_of(origin)
        owner_keys = _OwnerKeys(origin, origin_key)
        suffix, cut = owner_keys.suffix, owner_keys.cut
        nodes: dict[bytes, Node] = {}
        count = 0
        head = _FIRST.pack
        length = LENGTH_BYTE
        new_node = Node
        children = 0  # of the apex, among the owners one label below it
        others: list[bytes] = []  # every other owner: their parents are found later
        for owner_key, types in groups.items():
            # An owner one label below the apex (most of a big zone) gets its
            # key by prefixing that label to the apex's; others go the long way.
            label = owner_key[:cut]
            if label and "." not in label and "\\" not in label and owner_key.endswith(suffix):
                key = length[len(label)] + label.encode() + origin_key
                children += 1
            else:
                found = owner_keys.other(owner_key)
                if found is None:
                    continue
                key = found
                others.append(key)
            if len(types) == 1:
                for rdtype, indices in types.items():
                    if len(indices) == 1:  # one record: most owners of a big zone
                        _, owner, _, ttl, wire = rows[indices[0]]
                        node = nodes[key] = new_node(key, (rdtype, head(ttl, len(wire)) + wire))
                        count += 1
                    else:
                        owner = rows[indices[0]][1]
                        packed, held = _pack_rows(rows, indices)
                        node = nodes[key] = new_node(key, (rdtype, packed))
                        count += held
            else:
                sets: list[int | Held] = []
                # Types in order, as the store gives them.
                for rdtype in sorted(types):
                    packed, held = _pack_rows(rows, types[rdtype])
                    sets += (rdtype, packed)
                    count += held
                node = nodes[key] = new_node(key, tuple(sets))
                owner = rows[types[sets[0]][0]][1]  # type: ignore[index]
            if owner != owner_key:
                node.owner = stored_name(owner)
        apex = nodes.get(origin_key)
        if apex is None:  # (then no owner is one label below it either)
            raise ValueError(f"zone {origin} needs an SOA and NS records at its apex")
        apex.below += children
        out: ZoneSnapshot = object.__new__(cls)
        out.origin = origin
        out.key = origin_key
        out._index(_with_ancestors(nodes, origin_key, others), count)
        return out

    @classmethod
    def _from_rows(cls, origin: dns.name.Name, rows: Iterable[StoredRow]) -> ZoneSnapshot:
        origin_key = key_of(origin)
        owner_keys = _OwnerKeys(origin, origin_key)
        suffix, cut = owner_keys.suffix, owner_keys.cut
        length = LENGTH_BYTE
        nodes: dict[bytes, Node] = {}
        count = 0
        last_owner = ""
        node = _EMPTY
        last_type = -1
        ttl = 0
        first = b""  # the RRset's first rdata ...
        more: list[bytes] = []  # ... and the length and bytes of the others
        seen: set[bytes] | None = None  # the set's rdatas, once it has two
        sets: list[int | Held] = []
        head = _FIRST.pack
        for owner_key, owner, rdtype, row_ttl, wire in rows:
            if owner_key != last_owner or rdtype != last_type:
                if first:
                    if more:
                        sets += (last_type, _packed(ttl, first, more))
                        count += 1 + (len(more) >> 1)
                    else:  # one record: most RRsets
                        sets += (last_type, head(ttl, len(first)) + first)
                        count += 1
                    first = b""
                if owner_key != last_owner:
                    if sets:
                        node.sets = tuple(sets)
                        sets = []
                    # An owner one label below the apex (most of a big zone) gets its
                    # key by prefixing that label to the apex's; others go the long way.
                    label = owner_key[:cut]
                    if (
                        label
                        and "." not in label
                        and "\\" not in label
                        and owner_key.endswith(suffix)
                    ):
                        key = length[len(label)] + label.encode() + origin_key
                    else:
                        found = owner_keys.other(owner_key)
                        if found is None:
                            last_owner, last_type = "", -1
                            continue
                        key = found
                    node = nodes[key] = Node(key)
                    if owner != owner_key:
                        node.owner = stored_name(owner)
                    last_owner = owner_key
                last_type = rdtype
                ttl = row_ttl
                first, more, seen = wire, [], None
                continue
            if row_ttl < ttl:
                ttl = row_ttl
            # A record written twice (a zone file may) is one record: an
            # RRset is a set (RFC 2181 §5), as dnspython's reader makes it.
            if seen is None:
                if wire == first:
                    continue
                seen = {first, wire}
            elif wire in seen:
                continue
            else:
                seen.add(wire)
            more += (_LENGTH.pack(len(wire)), wire)
        if first:
            sets += (last_type, _packed(ttl, first, more))
            count += 1 + (len(more) >> 1)
        if sets:
            node.sets = tuple(sets)
        out: ZoneSnapshot = object.__new__(cls)
        out.origin = origin
        out.key = origin_key
        out._index(_with_ancestors(nodes, origin_key), count)
        return out

    def _index(self, nodes: NodeMap[Node], count: int) -> None:
        self.nodes = nodes
        self.record_count = count
        self._wide: frozenset[bytes] | None = None
        apex = nodes.get(self.key)
        if apex is None or _SOA not in apex or _NS not in apex:
            raise ValueError(f"zone {self.origin} needs an SOA and NS records at its apex")
        self.apex = apex
        self.serial_wire = _serial_wire(apex.raw(_SOA))  # type: ignore[arg-type]
        # The apex SOA and NS as dnspython objects, made when first needed:
        # a server starting with ten thousand zones need not make them all.
        self._soa: dns.rrset.RRset | None = None
        self._ns: dns.rrset.RRset | None = None
        self._negative_soa: dns.rrset.RRset | None = None
        self._ns_targets: frozenset[bytes] | None = None

    @property
    def soa(self) -> dns.rrset.RRset:
        """The apex SOA RRset (kept once made: every negative answer reads it)."""
        if self._soa is None:
            self._soa = self.apex[_SOA]
        return self._soa

    @property
    def ns(self) -> dns.rrset.RRset:
        """The apex NS RRset (kept once made)."""
        if self._ns is None:
            self._ns = self.apex[_NS]
        return self._ns

    @property
    def serial(self) -> int:
        return int.from_bytes(self.serial_wire, "big")

    @property
    def negative_soa(self) -> dns.rrset.RRset:
        """The SOA for negative answers (made when first needed: a commit need not)."""
        if self._negative_soa is None:
            # RFC 2308 §3: the negative TTL is the lesser of the SOA's TTL and MINIMUM.
            neg = dns.rrset.RRset(self.origin, self.soa.rdclass, _SOA)
            neg.add(self.soa[0], min(self.soa.ttl, self.soa[0].minimum))
            self._negative_soa = neg
        return self._negative_soa

    @property
    def ns_target_keys(self) -> frozenset[bytes]:
        """The keys of the names the apex NS records point at, and of every name
        above them (each label-boundary suffix of theirs)."""
        if self._ns_targets is None:
            keys = set()
            for rd in self.ns:
                key = key_of(rd.target)
                while key:
                    keys.add(key)
                    key = key[key[0] + 1 :]
            self._ns_targets = frozenset(keys)
        return self._ns_targets

    @property
    def wide_tags(self) -> frozenset[bytes]:
        """The tags every answer of this zone depends on (see deps.py): the apex's
        types, NS and SOA, a wildcard right below the apex, and what the additional
        section of a positive answer reads for the name servers' addresses."""
        if self._wide is None:
            deps = Deps()
            for rdata in self.ns:
                self.addresses_for(rdata.target, False, None, deps)
            apex = self.key
            deps.tags |= {
                node_tag(apex),
                rrset_tag(apex, _NS),
                rrset_tag(apex, _SOA),
                node_tag(_WILDCARD + apex),
            }
            self._wide = frozenset(deps.tags)
        return self._wide

    def evolve(
        self, changes: dict[tuple[dns.name.Name, int], dns.rrset.RRset | None]
    ) -> tuple[ZoneSnapshot, set[bytes]]:
        """The next snapshot, with some RRsets replaced (None deletes one), and the
        dependency tags the change touched (deps.py).

        Only the touched nodes (and the empty non-terminals that come and go
        with them) are rebuilt; everything else is shared with this snapshot,
        which stays valid for the queries still reading it.
        """
        if not changes:
            # (A zone just created: its snapshot is already the one to serve,
            # and working out its wide tags would unpack its NS for nothing.)
            return self, set()
        origin_key = self.key
        old_nodes = self.nodes
        new: dict[bytes, Node | None] = {}  # the nodes this change replaces
        tags: set[bytes] = set()
        count = self.record_count

        def current(key: bytes) -> Node | None:
            return new[key] if key in new else old_nodes.get(key)

        def adopt(key: bytes) -> Node:
            """The node at ``key`` in the next snapshot, created (with its empty
            non-terminals) if needed, ready to change."""
            node = current(key)
            if node is not None:
                if key not in new:
                    node = new[key] = node.copy()
                return node
            node = new[key] = Node(key)
            tags.add(node_tag(key))
            child = key
            while child != origin_key:
                parent = parent_key(child)
                above = current(parent)
                if above is not None:
                    # Not adopt(parent), which would do the same: a closure that
                    # calls itself is a reference cycle, and this call's work
                    # must be freed by reference counting alone (heap.py
                    # settle_heap).
                    if parent not in new:
                        above = new[parent] = above.copy()
                    above.below += 1
                    break
                new[parent] = Node(parent, below=1)
                tags.add(node_tag(parent))
                child = parent
            return node

        for (name, rdtype), rrset in changes.items():
            key = key_of(name)
            if rrset is None and current(key) is None:
                continue  # deleting what does not exist
            node = adopt(key)
            if not node and rrset is not None and node.owner is None and wire_of(name) != key:
                node.owner = name  # a new name, written with capitals
            old = node.pop(rdtype)
            if old is not None:
                count -= size(old)
            if rrset is not None and len(rrset):
                node.put(rdtype, rrset)
                count += len(rrset)
            if (old is None) != (rrset is None or not len(rrset)):
                tags.add(node_tag(key))  # a type came or went
            if rdtype == _SOA and key == origin_key:
                tags.add(serial_tag(origin_key))
                if (
                    old is not None
                    and rrset is not None
                    and _same_but_serial(_unpacked(old, name, rdtype), rrset)
                ):
                    continue  # answers carrying the SOA are patched with the serial
            tags.add(rrset_tag(key, rdtype))
        # Names left without records or children go, and so may their parents.
        for key in list(new):
            left = new[key]
            while left is not None and not left and not left.below and key != origin_key:
                new[key] = None
                tags.add(node_tag(key))
                key = parent_key(key)
                left = adopt(key)
                left.below -= 1
        out: ZoneSnapshot = object.__new__(ZoneSnapshot)
        out.origin = self.origin
        out.key = origin_key
        out._index(old_nodes.evolve(new) if new else old_nodes, count)
        if tags.isdisjoint(self.wide_tags):
            # Nothing the shared part reads changed, so it reads the same now.
            out._wide = self._wide
        else:
            tags.add(zone_tag(origin_key))
        return out, tags

    def find(self, key: bytes, qtype: int, deps: Deps | None = None) -> Lookup:
        """Find what answers ``key`` in this zone (RFC 1034 §4.3.2 step 3).

        The walk goes down from the apex so that a cut or DNAME above the name
        wins over anything stored below it (occluded data is never answered).
        ``deps``, if given, collects the nodes the walk read (deps.py).
        """
        nodes = self.nodes
        origin_key = self.key
        if deps is not None:
            deps.zone(self)
        # Offsets of the labels between the apex and the query name, top last.
        depth_end = len(key) - len(origin_key)
        offsets = []
        i = 0
        while i < depth_end:
            offsets.append(i)
            i += key[i] + 1
        if offsets and _DNAME in self.apex:
            return Lookup(Match.DNAME, origin_key, self.apex)
        encloser = origin_key
        node: Node | None = self.apex
        for j in range(len(offsets) - 1, -1, -1):
            name = key[offsets[j] :] if j else key
            node = nodes.get(name)
            if deps is not None:
                deps.tags.add(node_tag(name))
            if node is None:
                break
            encloser = name
            if _NS in node and not (j == 0 and qtype == _DS):
                return Lookup(Match.REFERRAL, name, node)
            if j and _DNAME in node:
                return Lookup(Match.DNAME, name, node)
        else:
            assert node is not None  # the apex, or the last node of the walk
            return Lookup(Match.EXACT, key, node)
        wildcard_key = _WILDCARD + encloser
        wildcard = nodes.get(wildcard_key)
        if deps is not None:
            deps.tags.add(node_tag(wildcard_key))
        if wildcard is not None:
            return Lookup(Match.WILDCARD, wildcard_key, wildcard)
        return Lookup(Match.NXDOMAIN, encloser, _EMPTY)

    def addresses_for(
        self,
        target: dns.name.Name,
        allow_glue: bool,
        key: bytes | None = None,
        deps: Deps | None = None,
    ) -> list[dns.rrset.RRset]:
        """A and AAAA RRsets for ``target`` from this zone, for the additional section.

        Glue (data at or below a cut) is used only for referrals; a name that
        does not exist may be covered by a wildcard.
        """
        if key is None:
            key = key_of(target)
        if not key.endswith(self.key):
            return []
        look = self.find(key, dns.rdatatype.A, deps)
        owner = look.owner
        if look.match is Match.REFERRAL:
            if not allow_glue:
                return []
            node = self.nodes.get(key)
            owner = key
            if deps is not None:
                deps.tags.add(node_tag(key))
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
                if deps is not None:
                    deps.tags.add(rrset_tag(owner, rdtype))
                out.append(rrset if look.match is Match.EXACT else rename(rrset, target))
        return out

    def rrsets(self) -> Iterable[dns.rrset.RRset]:
        """Every RRset of the zone (in no particular order)."""
        for node in self.nodes.values():
            for _, rrset in node.items():
                yield rrset


def _with_ancestors(
    nodes: dict[bytes, Node], origin_key: bytes, keys: Iterable[bytes] | None = None
) -> NodeMap[Node]:
    """``nodes`` with an empty node for every empty non-terminal (RFC 4592
    §2.2.2), and each node's ``below`` counting its children; ``keys``, if
    given, are the only ones whose parents are not counted yet."""
    for key in list(nodes) if keys is None else keys:
        while key != origin_key:
            parent = key[key[0] + 1 :]
            above = nodes.get(parent)
            if above is not None:
                above.below += 1
                break
            nodes[parent] = Node(parent, below=1)
            key = parent
    return NodeMap(nodes)


class _OwnerKeys:
    """Index keys of a zone's owners from their lower-cased text.

    An owner one label below the apex ends with ``suffix``, and its label is
    its text up to ``cut``: the builders make its key from those, in their
    loops; ``other`` is for the rest."""

    def __init__(self, origin: dns.name.Name, origin_key: bytes) -> None:
        self.origin_key = origin_key
        self.suffix = "." + name_text(origin).lower()
        if self.suffix == "..":
            self.suffix = "."
        self.cut = -len(self.suffix)  # (leaves nothing of the root zone's apex)

    def other(self, owner_key: str) -> bytes | None:
        """The key of any owner; None for one outside the zone."""
        key = key_from_text(owner_key)
        return key if key_within(key, self.origin_key) else None


def _pack_rows(rows: Sequence[StoredRow], indices: list[int]) -> tuple[bytes, int]:
    """The packed RRset of some rows, and how many records it holds: each record
    once (a file may repeat one), the set's TTL the lowest of theirs."""
    if len(indices) == 1:
        row = rows[indices[0]]
        return _FIRST.pack(row[3], len(row[4])) + row[4], 1
    wires = list(dict.fromkeys([rows[i][4] for i in indices]))
    return pack(min([rows[i][3] for i in indices]), wires), len(wires)


_FIRST = struct.Struct("!IH")  # a packed RRset's TTL and first rdata length
_LENGTH = struct.Struct("!H")


def _packed(ttl: int, first: bytes, more: list[bytes]) -> bytes:
    """An RRset's packed form (node.py) from its first rdata and the others'
    lengths and bytes."""
    head = _FIRST.pack(ttl, len(first)) + first
    return head + b"".join(more) if more else head


def _serial_wire(soa: Held) -> bytes:
    """The 4 bytes of an SOA RRset's serial: read from the packed rdata (after
    its two uncompressed names) without making the record."""
    if not isinstance(soa, bytes):
        return struct.pack("!I", soa[0].serial)
    at = 6  # the TTL and the rdata length
    for _ in range(2):  # MNAME, RNAME
        while soa[at]:
            at += soa[at] + 1
        at += 1
    return soa[at : at + 4]


def _unpacked(value: Held, name: dns.name.Name, rdtype: int) -> dns.rrset.RRset:
    return unpack(name, rdtype, value) if isinstance(value, bytes) else value


def _same_but_serial(old: dns.rrset.RRset, new: dns.rrset.RRset) -> bool:
    """Whether two SOA RRsets differ in the serial alone."""
    if old.ttl != new.ttl or len(old) != 1 or len(new) != 1:
        return False
    return soa_fields(old[0]) == soa_fields(new[0])


def rename(rrset: dns.rrset.RRset, owner: dns.name.Name) -> dns.rrset.RRset:
    """The same records under another owner name (wildcard synthesis)."""
    out = dns.rrset.RRset(owner, rrset.rdclass, rrset.rdtype)
    out.update(rrset)
    out.ttl = rrset.ttl
    return out
