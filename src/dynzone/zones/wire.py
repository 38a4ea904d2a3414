"""The wire form of records, as the store and the journal keep them.

Encoding an rdata costs a wire rendering (an SOA's names included), and a
commit encodes some of the same rdatas more than once: the new SOA for the
record table and for the journal, then again as the removed SOA of the next
change. ``rdata_wire`` remembers the last few thousand it encoded, by object
(memo.py); ``rdata_key``, what records are compared by, likewise.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from dynzone.memo import ByObject
from dynzone.zones.names import name_wire, wire_of
from dynzone.zones.zonefile import Record

_HEAD = struct.Struct("!HIH")
_A = dns.rdatatype.A
_AAAA = dns.rdatatype.AAAA
_MX = dns.rdatatype.MX
_SRV = dns.rdatatype.SRV
# Types whose rdata is one name, written uncompressed by ``fresh_wire``.
_TARGET_ONLY = frozenset({dns.rdatatype.NS, dns.rdatatype.CNAME, dns.rdatatype.PTR})
_U16 = struct.Struct("!H")
_SRV_HEAD = struct.Struct("!HHH")
_SOA = dns.rdatatype.SOA
_SOA_TIMERS = struct.Struct("!IIIII")
# Types whose rdata holds no domain name: their canonical form is their wire form.
_NO_NAMES = frozenset({dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.TXT})


def _wire(rdata: dns.rdata.Rdata) -> bytes:
    wire = rdata.to_wire()
    assert wire is not None
    return wire


def fresh_wire(rdata: dns.rdata.Rdata) -> bytes:
    """``rdata`` in uncompressed wire form, not remembered (for passes over many
    records each seen once): addresses without dnspython's pure-Python parser,
    and the common types with a name without its name encoder (which makes a
    name object for every suffix)."""
    rdtype = rdata.rdtype
    if rdtype == _A:
        return socket.inet_aton(rdata.address)  # type: ignore[attr-defined]
    if rdtype == _AAAA:
        return socket.inet_pton(socket.AF_INET6, rdata.address)  # type: ignore[attr-defined]
    if rdtype in _TARGET_ONLY:
        return name_wire(rdata.target)  # type: ignore[attr-defined]
    if rdtype == _MX:
        return _U16.pack(rdata.preference) + name_wire(rdata.exchange)  # type: ignore[attr-defined]
    if rdtype == _SRV:
        rd: Any = rdata
        return _SRV_HEAD.pack(rd.priority, rd.weight, rd.port) + name_wire(rd.target)
    if rdtype == _SOA:
        soa: Any = rdata
        timers = _SOA_TIMERS.pack(soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum)
        return name_wire(soa.mname) + name_wire(soa.rname) + timers
    return _wire(rdata)


# ``rdata`` in uncompressed wire form; ``rdata_wire.remember(rdata, wire)``
# notes one made some cheaper way (the SOA with a new serial).
rdata_wire: ByObject[dns.rdata.Rdata, bytes] = ByObject(fresh_wire)
_canonical: ByObject[dns.rdata.Rdata, bytes] = ByObject(
    lambda rdata: rdata.to_digestable(dns.name.root)
)


def rdata_key(rdata: dns.rdata.Rdata) -> bytes:
    """What decides whether two rdatas of one type are the same record: their
    canonical wire form (RFC 4034 §6.2), as dnspython's ``==`` compares them,
    remembered like ``rdata_wire`` (a change compares the same records often)."""
    if rdata.rdtype in _NO_NAMES:
        return rdata_wire(rdata)  # the same bytes: nothing in them to lower-case
    return _canonical(rdata)


def encode_records(records: list[Record]) -> bytes:
    """Records as one string of bytes: each its owner (uncompressed, as written),
    type, TTL, rdata length and rdata."""
    parts = []
    for r in records:
        owner = wire_of(r.name)
        wire = rdata_wire(r.rdata)
        parts.append(owner + _HEAD.pack(r.rdata.rdtype, r.ttl, len(wire)) + wire)
    return b"".join(parts)


def decode_records(data: bytes) -> list[Record]:
    """The records ``encode_records`` wrote."""
    out = []
    at = 0
    end = len(data)
    while at < end:
        name, used = dns.name.from_wire(data, at)
        at += used
        rdtype, ttl, length = _HEAD.unpack_from(data, at)
        at += _HEAD.size
        rdata = dns.rdata.from_wire(
            dns.rdataclass.IN, dns.rdatatype.RdataType.make(rdtype), data, at, length
        )
        at += length
        out.append(Record(name, ttl, rdata))
    return out
