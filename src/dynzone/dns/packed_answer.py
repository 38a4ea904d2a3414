"""Positive answers for records without names, written straight from packed bytes.

Most questions a large zone gets are for an existing host's address: one
RRset at the name asked, with the zone's NS RRset in authority and the name
servers' addresses in additional. For types whose rdata hold no names
(``DIRECT_TYPES``), the answer section is each record as a pointer to the
question, the type, class and TTL, and the rdata's length and bytes exactly
as the snapshot packs them (zones/node.py); nothing is made into a dnspython
object.

What follows the answer section (authority and additional, and the OPT
record) is the same for every such answer in the zone with a question name
of the same length and an answer section of the same length: rendered with
compression anchored at the question name and the zone's apex only
(render.py), its pointers depend on nothing else. It is rendered once, the
usual way, and shared (the answer cache's ``shapes``, filed under the
zone's tag so a change to the NS RRset or its addresses retires it).

``answer_section`` says when this applies: an exact match below the apex,
an RRset of a direct type, and a name that is not a name server's nor above
one (then the additional section or compression would depend on it).
"""

from __future__ import annotations

import struct

import dns.rdataclass
import dns.rdatatype

from dynzone.engine.catalog import Catalog
from dynzone.zones.deps import Deps, node_tag
from dynzone.zones.node import pack_rrset
from dynzone.zones.snapshot import Match, ZoneSnapshot

# Types whose rdata hold no domain names and call for no additional data.
DIRECT_TYPES = frozenset(
    {dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.TXT, dns.rdatatype.CAA,
     dns.rdatatype.SSHFP, dns.rdatatype.TLSA, dns.rdatatype.HINFO, dns.rdatatype.SPF,
     dns.rdatatype.OPENPGPKEY, dns.rdatatype.URI}
)  # fmt: skip

_IN = dns.rdataclass.IN
_NS = dns.rdatatype.NS
_DNAME = dns.rdatatype.DNAME
_TO_QUESTION = b"\xc0\x0c"  # a pointer to the question's name, at offset 12
# A direct type -> the start of each of its records: owner (a pointer to the
# question), type and class IN.
_RECORD_HEAD: dict[int, bytes] = {
    t: _TO_QUESTION + struct.pack("!HH", t, dns.rdataclass.IN) for t in DIRECT_TYPES
}
# Marks a tail's key among the shapes (zone key, this, name length, answer
# length << 2 | EDNS variant): no wildcard key (b"\x01*...") or zone key can
# equal it.
TAIL_MARK = b"+"


def answer_section(
    catalog: Catalog, name_key: bytes, qtype: int, qclass: int, deps: Deps | None
) -> tuple[ZoneSnapshot, bytes, int] | None:
    """The zone, the answer section's bytes and its record count, when the answer
    to (``name_key``, ``qtype``) can be written this way; else None.
    ``deps``, if given, collects what the lookup read."""
    head = _RECORD_HEAD.get(qtype)
    if head is None or qclass != _IN:
        return None
    zones = catalog.zones
    parent = name_key[name_key[0] + 1 :]
    zone = zones.get(parent)
    if zone is not None and name_key not in zones:
        # One label below an apex (most names of a big zone), and no zone of
        # its own: no cut or DNAME can be above it unless at the apex, so the
        # walk is this one node (what find reads).
        if _DNAME in zone.apex.sets:
            return None
        node = zone.nodes.get(name_key)
        if node is None:
            return None  # NXDOMAIN or a wildcard: the general path
        sets = node.sets
        if _NS in sets:
            return None  # a referral
        if deps is not None:
            deps.zone(zone)
            deps.tags.add(node_tag(name_key))
    else:
        zone = catalog.find_zone(name_key)
        if zone is None or name_key == zone.key:
            return None
        look = zone.find(name_key, qtype, deps)
        if look.match is not Match.EXACT:
            return None
        sets = look.node.sets
    if name_key in zone.ns_target_keys:
        return None  # a name server's name or above one
    # A type number is found only at an even place of the flat tuple: the
    # values there are bytes or RRsets, which never equal an int.
    if qtype not in sets:
        return None
    value = sets[sets.index(qtype) + 1]
    packed = value if type(value) is bytes else pack_rrset(value)  # type: ignore[arg-type]
    fixed = head + packed[:4]  # and the TTL
    if len(packed) == 6 + ((packed[4] << 8) | packed[5]):
        return zone, fixed + packed[4:], 1  # one record (most addresses)
    parts = []
    at, end = 4, len(packed)
    while at < end:
        stop = at + 2 + ((packed[at] << 8) | packed[at + 1])
        parts.append(fixed)
        parts.append(packed[at:stop])
        at = stop
    return zone, b"".join(parts), len(parts) >> 1
