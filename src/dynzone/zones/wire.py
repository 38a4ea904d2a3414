"""The wire form of records, as the store and the journal keep them.

Encoding an rdata costs a wire rendering (an SOA's names included), and a
commit encodes some of the same rdatas more than once: the new SOA for the
record table and for the journal, then again as the removed SOA of the next
change. ``rdata_wire`` remembers the last few thousand it encoded, by object
(kept alive with its entry, so an id is never confused with another
object's); ``rdata_key``, what records are compared by, likewise.
"""

from __future__ import annotations

import struct
import threading

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from dynzone.zones.names import wire_of
from dynzone.zones.zonefile import Record

_REMEMBERED = 4096
_memo: dict[int, tuple[dns.rdata.Rdata, bytes]] = {}
_keys: dict[int, tuple[dns.rdata.Rdata, bytes]] = {}
_lock = threading.Lock()
_HEAD = struct.Struct("!HIH")
# Types whose rdata holds no domain name: their canonical form is their wire form.
_NO_NAMES = frozenset({dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.TXT})


def rdata_wire(rdata: dns.rdata.Rdata) -> bytes:
    """``rdata`` in uncompressed wire form."""
    found = _memo.get(id(rdata))
    if found is not None and found[0] is rdata:
        return found[1]
    wire = rdata.to_wire()
    assert wire is not None
    remember(rdata, wire)
    return wire


def rdata_key(rdata: dns.rdata.Rdata) -> bytes:
    """What decides whether two rdatas of one type are the same record: their
    canonical wire form (RFC 4034 §6.2), as dnspython's ``==`` compares them,
    remembered like ``rdata_wire`` (a change compares the same records often)."""
    if rdata.rdtype in _NO_NAMES:
        return rdata_wire(rdata)  # the same bytes: nothing in them to lower-case
    found = _keys.get(id(rdata))
    if found is not None and found[0] is rdata:
        return found[1]
    key = rdata.to_digestable(dns.name.root)
    with _lock:
        if len(_keys) >= _REMEMBERED:
            _keys.clear()
        _keys[id(rdata)] = (rdata, key)
    return key


def remember(rdata: dns.rdata.Rdata, wire: bytes) -> None:
    """Note that ``rdata``'s wire form is ``wire`` (made some cheaper way)."""
    with _lock:
        if len(_memo) >= _REMEMBERED:
            _memo.clear()
        _memo[id(rdata)] = (rdata, wire)


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
