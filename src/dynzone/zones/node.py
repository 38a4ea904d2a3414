"""The RRsets at one owner name, kept dense: most of them as packed wire bytes.

A snapshot holds one node per name, and a zone may have millions of names.
A dnspython RRset with its rdata objects costs about a kilobyte; the same
records as bytes cost little more than their wire size. So a node keeps each
RRset *packed* (``pack``): its TTL, then each rdata's length and
uncompressed wire form. The RRsets a commit puts in are kept as the dnspython
objects it made; nothing is converted on the write path.

Readers that want dnspython objects (answers not cached yet, updates,
exports) get them from ``get``, made afresh from the bytes each time;
readers that want wire form (transfers, direct answers) take ``raw`` values
(or walk ``sets``) and use the bytes as they are.

Only the record type and value pairs are held, in one flat tuple
``(type, value, type, value, ...)``: a node rarely has more than a few
types, and a tuple costs a fraction of a dict.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from dynzone.zones.names import name_wire
from dynzone.zones.trusted_rdata import name_from_wire, rdata_from_wire, type_enum
from dynzone.zones.wire import fresh_wire

_IN = dns.rdataclass.IN
_RRSIG = dns.rdatatype.RRSIG
_TTL = struct.Struct("!I")
_LENGTH = struct.Struct("!H")

# A value: a dnspython RRset, or the packed bytes of one.
Held = dns.rrset.RRset | bytes


def pack(ttl: int, wires: Iterable[bytes]) -> bytes:
    """An RRset's records as bytes: the TTL, then each rdata's length and wire form."""
    parts = [_TTL.pack(ttl)]
    for wire in wires:
        parts.append(_LENGTH.pack(len(wire)))
        parts.append(wire)
    return b"".join(parts)


def pack_rrset(rrset: dns.rrset.RRset) -> bytes:
    """The packed form of a dnspython RRset."""
    return pack(rrset.ttl, [fresh_wire(rd) for rd in rrset])


def packed_ttl(packed: bytes) -> int:
    return int.from_bytes(packed[:4], "big")


def packed_rdatas(packed: bytes) -> Iterator[tuple[int, int]]:
    """(offset, length) of each rdata inside ``packed``."""
    at = 4
    end = len(packed)
    while at < end:
        length = (packed[at] << 8) | packed[at + 1]
        yield at + 2, length
        at += 2 + length


def size(value: Held) -> int:
    """How many records an RRset holds, packed or not."""
    if isinstance(value, bytes):
        return sum(1 for _ in packed_rdatas(value))
    return len(value)


def unpack(name: dns.name.Name, rdtype: int, packed: bytes) -> dns.rrset.RRset:
    """The dnspython RRset of ``packed`` under ``name``."""
    rrset = dns.rrset.RRset(name, _IN, type_enum(rdtype))
    items = rrset.items
    for at, length in packed_rdatas(packed):
        # The records came out of an RRset, so they are distinct already.
        rd = rdata_from_wire(rdtype, packed, at, length, remember=False)
        items[rd] = None
    if rdtype == _RRSIG and items:
        rrset.covers = rd.covers()
    rrset.ttl = packed_ttl(packed)
    return rrset


class Node:
    """The RRsets at one owner name, by type; ``below`` counts its child nodes.

    A node without RRsets is an empty non-terminal (RFC 4592 §2.2.2): it exists
    because names below it do, and goes away with the last of them.

    ``key`` is the owner's index key (names.py); ``owner`` is the owner name as
    written when that differs from the key in case, else None (the common case
    costs nothing to keep).
    """

    __slots__ = ("below", "key", "owner", "sets")

    def __init__(
        self,
        key: bytes,
        sets: tuple[int | Held, ...] = (),
        below: int = 0,
        owner: dns.name.Name | None = None,
    ) -> None:
        self.key = key
        self.sets = sets
        self.below = below
        self.owner = owner

    # -- which types ---------------------------------------------------------------

    def __contains__(self, rdtype: object) -> bool:
        # An int never equals a value (bytes or an RRset), so one scan of the
        # flat tuple answers it.
        return rdtype in self.sets

    def __iter__(self) -> Iterator[int]:
        return iter(self.sets[::2])  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.sets) >> 1

    def __bool__(self) -> bool:
        return bool(self.sets)

    # -- values ----------------------------------------------------------------------

    def raw(self, rdtype: int) -> Held | None:
        """The RRset of ``rdtype`` as held: packed bytes or an RRset."""
        # A type number is found only at an even place of the flat tuple: the
        # values are bytes or RRsets, which never equal an int.
        sets = self.sets
        if rdtype not in sets:
            return None
        return sets[sets.index(rdtype) + 1]  # type: ignore[return-value]

    def get(self, rdtype: int) -> dns.rrset.RRset | None:
        """The RRset of ``rdtype`` as a dnspython object, or None."""
        value = self.raw(rdtype)
        if value is None or not isinstance(value, bytes):
            return value
        return unpack(self.owner_name(), rdtype, value)

    def __getitem__(self, rdtype: int) -> dns.rrset.RRset:
        rrset = self.get(rdtype)
        if rrset is None:
            raise KeyError(rdtype)
        return rrset

    def items(self) -> Iterator[tuple[int, dns.rrset.RRset]]:
        for rdtype in self:
            yield rdtype, self[rdtype]

    def owner_name(self) -> dns.name.Name:
        return self.owner if self.owner is not None else name_from_wire(self.key)

    def owner_wire(self) -> bytes:
        """The owner in uncompressed wire form, as written."""
        return self.key if self.owner is None else name_wire(self.owner)

    # -- changing a copy (only ever a node not yet published) --------------------

    def copy(self) -> Node:
        return Node(self.key, self.sets, self.below, self.owner)

    def pop(self, rdtype: int) -> Held | None:
        """Remove the RRset of ``rdtype``; return it as it was held."""
        sets = self.sets
        for i in range(0, len(sets), 2):
            if sets[i] == rdtype:
                self.sets = sets[:i] + sets[i + 2 :]
                return sets[i + 1]  # type: ignore[return-value]
        return None

    def put(self, rdtype: int, value: Held) -> None:
        """Hold ``value`` as the RRset of ``rdtype`` (replacing any)."""
        self.pop(rdtype)
        self.sets = (*self.sets, rdtype, value)
