"""An UPDATE message (RFC 2136 §2) as the door reads it, and its replies.

``read`` takes the wire apart directly: the zone section, each prerequisite
and update record (name, class, type, TTL as sent, rdata), the OPT and the
TSIG record. Building a dnspython ``Message`` costs several times more, and
an UPDATE is parsed on the query path's thread. It reads only messages of
the forms it fully knows; for anything else (another class than IN, ANY or
NONE, unexpected additional records, EDNS padding or versions, trailing
bytes, anything malformed) it returns None and the caller parses with
dnspython (``from_message``), which also decides every FORMERR as before.
tests/update/test_message.py proves both give the same records.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import dns.exception
import dns.message
import dns.name
import dns.opcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TSIG

from dynzone.dns import signed
from dynzone.dns.tsig import TsigFields
from dynzone.zones.trusted_rdata import rdata_from_wire

_RR = struct.Struct("!HHIH")
_IN = dns.rdataclass.IN
_ANY = dns.rdataclass.ANY
_OPT = int(dns.rdatatype.OPT)
_NONE = dns.rdataclass.NONE


@dataclass(slots=True)
class UpdateRR:
    """One prerequisite or update record, as dnspython's UPDATE parsing gives it:
    class ANY or NONE become ``deleting``, and ``rdclass`` the zone's class."""

    name: dns.name.Name
    rdclass: int
    rdtype: int
    deleting: int | None
    ttl: int  # as sent; None-rdata records keep theirs too (dnspython drops it)
    rdata: dns.rdata.Rdata | None


@dataclass(slots=True)
class UpdateMessage:
    """What the door needs of an UPDATE, however it was parsed."""

    data: bytes
    zone: list[tuple[dns.name.Name, int, int]]  # (name, type, class) of the zone section
    prerequisites: list[UpdateRR]
    updates: list[UpdateRR]
    tsig_owner: dns.name.Name | None
    tsig: dns.rdtypes.ANY.TSIG.TSIG | TsigFields | None
    # Whether ``ttl`` is the sent TTL for records without rdata (not so when
    # dnspython parsed them: ``sections.check_ttls`` reads those from the wire).
    exact_ttls: bool
    msg: dns.message.Message | None = None  # the dnspython parse, when that was used
    zone_end: int = 0  # where the zone section ends (read here)
    edns: bool = False
    payload: int = 0

    def reply(self, rcode: int, payload: int) -> bytes:
        """The reply saying ``rcode``: what dnspython's ``make_response`` renders."""
        if self.msg is not None:
            return signed.reply(self.data, self.msg, rcode, payload)
        return signed.plain_reply(self.data, self.zone_end, self.edns, rcode, payload)


def is_meta(rdtype: int) -> bool:
    """Whether no record in a zone can have this type (RFC 2136 §3.4.1.3 names
    ANY, AXFR, MAILA and MAILB; the other meta types and OPT are as
    meaningless): dnspython's ``is_metatype`` (128-255, and OPT), on plain
    ints, with no enum made for each record."""
    return 128 <= rdtype <= 255 or rdtype == _OPT


def read(data: bytes) -> UpdateMessage | None:
    """The UPDATE in ``data``, or None when it is not of a form read here."""
    try:
        return _read(data)
    except (IndexError, struct.error, ValueError, dns.exception.DNSException):
        return None


def _name(
    data: bytes, at: int, seen: dict[int, dns.name.Name] | None = None
) -> tuple[dns.name.Name, int]:
    """The name at ``at`` and where it ends, following compression pointers, which
    must point backwards (as dnspython requires); raises ValueError otherwise.

    ``seen`` holds the names already read from this message by where they
    start: a name that is only a pointer to one of them is that same object
    (an UPDATE names each owner twice or more, and what is derived from a
    name is remembered per object, zones/names.py)."""
    first = data[at]
    if seen is not None and first >= 0xC0:
        target = (first & 0x3F) << 8 | data[at + 1]
        known = seen.get(target)
        if known is not None:
            return known, at + 2
    name, end = _walk(data, at)
    if seen is not None:
        seen[at] = name
    return name, end


# Names met lately, by their labels as sent: the zone, the key and its
# algorithm come in every UPDATE, and a host updated again comes back. One
# object per name also lets what is remembered per name object
# (zones/names.py) be found again. Names are immutable, so sharing is safe.
_NAMES_KEPT = 4096
_names: dict[tuple[bytes, ...], dns.name.Name] = {}


def _named(labels: tuple[bytes, ...]) -> dns.name.Name:
    found = _names.get(labels)
    if found is None:
        found = dns.name.Name(labels)  # checks the labels (raises for a bad name)
        if len(_names) >= _NAMES_KEPT:
            _names.clear()
        _names[labels] = found
    return found


def _walk(data: bytes, at: int) -> tuple[dns.name.Name, int]:
    labels = []
    end = 0
    limit = at
    while True:
        length = data[at]
        if length == 0:
            labels.append(b"")
            return _named(tuple(labels)), end or at + 1
        if length >= 0xC0:
            target = (length & 0x3F) << 8 | data[at + 1]
            if target >= limit:
                raise ValueError("compression pointer does not point backwards")
            end = end or at + 2
            at = limit = target
            continue
        if length > 63:
            raise ValueError("unknown label type")
        labels.append(data[at + 1 : at + 1 + length])
        at += length + 1


def _read(data: bytes) -> UpdateMessage | None:
    zones, prereqs, updates, additional = struct.unpack_from("!HHHH", data, 4)
    if zones != 1:
        return None
    seen: dict[int, dns.name.Name] = {}
    zone_name, at = _name(data, 12, seen)
    ztype, zclass = struct.unpack_from("!HH", data, at)
    at += 4
    zone_end = at
    if ztype != dns.rdatatype.SOA or zclass != _IN:
        return None
    records: list[UpdateRR] = []
    for i in range(prereqs + updates):
        name, at = _name(data, at, seen)
        rdtype, rdclass, ttl, rdlen = _RR.unpack_from(data, at)
        at += _RR.size
        if at + rdlen > len(data) or rdtype in (dns.rdatatype.OPT, dns.rdatatype.TSIG):
            return None
        deleting = None
        empty = False
        if rdclass in (_ANY, _NONE):
            deleting = rdclass
            rdclass = _IN
            empty = deleting == _ANY or i < prereqs
        elif rdclass != _IN:
            return None
        if empty:
            if rdlen:
                return None
            rdata = None
        else:
            if is_meta(rdtype):
                return None
            # Addresses, nearly every dynamic record, made straight from their
            # bytes, their wire form kept for the store (trusted_rdata.py).
            rdata = rdata_from_wire(rdtype, data, at, rdlen)
            if ttl > 0x7FFFFFFF and deleting is None:
                ttl = 0
        at += rdlen
        records.append(UpdateRR(name, rdclass, rdtype, deleting, ttl, rdata))
    edns = False
    payload = 0
    owner = None
    rdata_tsig = None
    for i in range(additional):
        name, at = _name(data, at)
        rdtype, rdclass, ttl, rdlen = _RR.unpack_from(data, at)
        at += _RR.size
        if at + rdlen > len(data):
            return None
        if rdtype == dns.rdatatype.OPT and not edns and name == dns.name.root:
            # EDNS version 0 without options (an option could be padding).
            if ttl & 0x00FF0000 or rdlen:
                return None
            edns, payload = True, rdclass
        elif rdtype == dns.rdatatype.TSIG and i == additional - 1 and rdclass == _ANY:
            owner = name
            rdata_tsig = _tsig_fields(data, at, at + rdlen)
            if rdata_tsig is None:
                return None
        else:
            return None
        at += rdlen
    if at != len(data):
        return None
    return UpdateMessage(
        data,
        [(zone_name, ztype, zclass)],
        records[:prereqs],
        records[prereqs:],
        owner,
        rdata_tsig,
        exact_ttls=True,
        zone_end=zone_end,
        edns=edns,
        payload=payload,
    )


_TSIG_TIME = struct.Struct("!HIHH")
_TSIG_TAIL = struct.Struct("!HHH")


def _tsig_fields(data: bytes, at: int, end: int) -> TsigFields | None:
    """The TSIG rdata from ``at`` to ``end``; None unless it fills exactly that."""
    algorithm, at = _name(data, at)
    high, low, fudge, size = _TSIG_TIME.unpack_from(data, at)
    at += _TSIG_TIME.size
    mac = data[at : at + size]
    at += size
    original_id, error, other_size = _TSIG_TAIL.unpack_from(data, at)
    at += _TSIG_TAIL.size
    other = data[at : at + other_size]
    at += other_size
    if at != end:
        return None
    return TsigFields(algorithm, high << 32 | low, fudge, mac, original_id, error, other)


def from_message(data: bytes, msg: dns.message.Message) -> UpdateMessage:
    """The UPDATE dnspython parsed (with ``one_rr_per_rrset``)."""
    zone = [(rrset.name, int(rrset.rdtype), int(rrset.rdclass)) for rrset in msg.sections[0]]
    sections = [
        [
            UpdateRR(
                rrset.name,
                rrset.rdclass,
                rrset.rdtype,
                rrset.deleting,
                rrset.ttl,
                next(iter(rrset), None),
            )
            for rrset in msg.sections[number]
        ]
        for number in (1, 2)
    ]
    owner = msg.tsig.name if msg.tsig is not None else None
    rdata = msg.tsig[0] if msg.tsig is not None else None
    assert rdata is None or isinstance(rdata, dns.rdtypes.ANY.TSIG.TSIG)
    return UpdateMessage(data, zone, sections[0], sections[1], owner, rdata, False, msg)


def is_update(data: bytes) -> bool:
    """Whether ``data`` is an UPDATE request (read from the header alone)."""
    return len(data) >= 12 and not data[2] & 0x80 and (data[2] >> 3) & 0x0F == dns.opcode.UPDATE
