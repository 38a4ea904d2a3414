"""Pack a transfer's RRsets into DNS messages straight from wire bytes.

dnspython's renderer costs about 40 µs a record (a compression table of
every name, each record rendered through its class), all of it holding the
GIL: an AXFR of a million records took half a minute and starved the
queries meanwhile. Here a record is its owner, a fixed header and its
rdata's wire form, joined as bytes, a few µs each.

Compression: in each message, the first owner at or below the zone's name
(the question's name) is written in full; later ones as their own labels
and a pointer to the zone's name inside it, or as a pointer to the owner
before them when it is the same name. Rdata are written uncompressed,
which RFC 3597 §4 allows for every type and requires for types not in
RFC 1035. A message never exceeds ``size``; an RRset that does not fit in
what is left of one goes on in the next, as RFC 5936 §2.2 allows.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterable, Iterator

import dns.name
import dns.rdata
import dns.rdatatype
import dns.rrset

Question = tuple[dns.name.Name, int, int]

TCP_MESSAGE = 65535

_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_QUESTION_TAIL = struct.Struct("!HH")
_LENGTH = struct.Struct("!H")
_A = dns.rdatatype.A
_AAAA = dns.rdatatype.AAAA
_POINTER = 0xC000
# A pointer holds a 14-bit offset; the zone's name is always met well before.
_POINTER_REACH = 0x3FFF
# Records packed between two chances for other threads to run (about 0.1 ms):
# with 32, queries keep about half their rate while AXFRs run back to back,
# at the price of a fifth more time per AXFR (bench/README.md).
_YIELD_EVERY = 32


def rdata_bytes(rd: dns.rdata.Rdata) -> bytes:
    """``rd`` in uncompressed wire form (addresses without dnspython's own
    pure-Python address parser)."""
    if rd.rdtype == _A:
        return socket.inet_aton(rd.address)  # type: ignore[attr-defined]
    if rd.rdtype == _AAAA:
        return socket.inet_pton(socket.AF_INET6, rd.address)  # type: ignore[attr-defined]
    wire = rd.to_wire()
    assert wire is not None
    return wire


def pack(
    rrsets: Iterable[dns.rrset.RRset],
    msg_id: int,
    flags: int,
    question: Question,
    size: int = TCP_MESSAGE,
) -> Iterator[bytes]:
    """Messages of at most ``size`` bytes that carry ``rrsets`` in order; the
    question in the first one only."""
    qname, qtype, qclass = question
    zone_wire = qname.to_wire()
    assert zone_wire is not None
    zone_key = zone_wire.lower()
    zone_len = len(zone_wire)
    first = zone_wire + _QUESTION_TAIL.pack(qtype, qclass)
    pointer = _LENGTH.pack
    # The message being filled, in locals (this loop runs once per record):
    # its parts, bytes used so far (header and question included), record
    # count, where the zone's name is in it (for pointers; not into the
    # question, which keeps the zone's own spelling of its name rather than
    # the client's, RFC 4343 §4.1), and the last owner written and where.
    parts: list[bytes] = []
    used = _HEADER.size + len(first)
    count = 0
    zone_at = -1
    last_owner, last_at = b"", 0
    question_part = first

    for rrset in rrsets:
        owner = rrset.name.to_wire()
        assert owner is not None
        # The owner's labels above the zone's name, if it is at or below it.
        below = len(owner) - zone_len
        prefix: bytes | None = None
        if below >= 0 and owner[below:].lower() == zone_key and _label_boundary(owner, below):
            prefix = owner[:below]
        fixed = _RR.pack(rrset.rdtype, rrset.rdclass, rrset.ttl, 0)[:-2]
        for rd in rrset:
            rdata = rdata_bytes(rd)
            tail = fixed + pointer(len(rdata)) + rdata
            for _fresh in (False, True):  # in this message, else in a new one
                if owner == last_owner and last_at <= _POINTER_REACH:
                    written = pointer(_POINTER | last_at)
                elif prefix is None or zone_at < 0 or zone_at > _POINTER_REACH:
                    written = owner
                else:
                    written = prefix + pointer(_POINTER | zone_at)
                length = len(written) + len(tail)
                if used + length <= size:
                    break
                if _fresh or not count:
                    raise ValueError(f"a record of {rrset.name} does not fit in one message")
                head = _HEADER.pack(msg_id, flags, 1 if question_part else 0, count, 0, 0)
                yield b"".join((head, question_part, *parts))
                parts, used, count, zone_at = [], _HEADER.size, 0, -1
                last_owner, last_at, question_part = b"", 0, b""
            if prefix is not None and zone_at < 0:
                # The owner goes in full: later names may point into it.
                zone_at = used + len(prefix)
            if owner != last_owner:
                last_owner, last_at = owner, used
            parts.append(written + tail)
            used += length
            count += 1
            if not count % _YIELD_EVERY:
                # Let the query threads have the GIL now and then: without it
                # they get it back only when the interpreter forces a switch.
                time.sleep(0)
    head = _HEADER.pack(msg_id, flags, 1 if question_part else 0, count, 0, 0)
    yield b"".join((head, question_part, *parts))


def _label_boundary(wire: bytes, at: int) -> bool:
    """Whether a label of the name ``wire`` starts at ``at``."""
    i = 0
    while i < at:
        i += wire[i] + 1
    return i == at
