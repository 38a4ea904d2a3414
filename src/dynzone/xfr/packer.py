"""Pack a transfer's RRsets into DNS messages straight from their packed wire bytes.

dnspython's renderer costs about 40 µs a record (a compression table of
every name, each record rendered through its class), all of it holding the
GIL: an AXFR of a million records took half a minute and starved the
queries meanwhile. Here a record is its owner, a fixed header and its
rdata's length and wire form sliced out of the snapshot's packed RRset
(zones/node.py), joined as bytes: about a µs each.

Compression: in each message, the first owner at or below the zone's name
(the question's name) is written in full; later ones as their own labels
and a pointer to the zone's name inside it, or as a pointer to the owner
before them when it is the same name. Rdata are written uncompressed,
which RFC 3597 §4 allows for every type and requires for types not in
RFC 1035. A message never exceeds ``size``; an RRset that does not fit in
what is left of one goes on in the next, as RFC 5936 §2.2 allows.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterable, Iterator

import dns.name
import dns.rrset

from dynzone.dns.query_beat import BEAT
from dynzone.zones.names import key_within, wire_of
from dynzone.zones.node import pack_rrset

Question = tuple[dns.name.Name, int, int]
# An RRset as the packer takes it: the owner's uncompressed wire form (as
# written), the type, and the packed TTL and rdatas (zones/node.py).
WireSet = tuple[bytes, int, bytes]


class TooBig(ValueError):
    """A single record is larger than the message may be."""


TCP_MESSAGE = 65535

_HEADER = struct.Struct("!HHHHHH")
_TYPE = struct.Struct("!H")
_IN = b"\x00\x01"
_QUESTION_TAIL = struct.Struct("!HH")
_LENGTH = struct.Struct("!H")
_POINTER = 0xC000
# A pointer holds a 14-bit offset; the zone's name is always met well before.
_POINTER_REACH = 0x3FFF
# Records packed between two looks at whether queries are waiting (about 40 µs).
_YIELD_EVERY = 32
# How long after the last query seen the packer keeps pausing for queries.
_BUSY_SECONDS = 0.05


def wire_set(rrset: dns.rrset.RRset) -> WireSet:
    """A dnspython RRset as the packer takes it."""
    return wire_of(rrset.name), rrset.rdtype, pack_rrset(rrset)


def pack(
    sets: Iterable[WireSet],
    msg_id: int,
    flags: int,
    question: Question,
    size: int = TCP_MESSAGE,
) -> Iterator[bytes]:
    """Messages of at most ``size`` bytes that carry ``sets`` in order; the
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
    last_owner, last_at = b"", 0
    question_part = first
    beat = BEAT
    heard = beat.count
    busy_until = 0.0
    countdown = _YIELD_EVERY
    zone_ptr: bytes | None = None  # a pointer to the zone's name in this message

    for owner, rdtype, packed in sets:
        # The owner's labels above the zone's name, if it is at or below it.
        prefix = owner[: len(owner) - zone_len] if key_within(owner.lower(), zone_key) else None
        # Type, class IN and the TTL (the packed form starts with it).
        fixed = _TYPE.pack(rdtype) + _IN + packed[:4]
        at, end = 4, len(packed)
        while at < end:
            # The rdata's length and bytes, as the packed form holds them.
            stop = at + 2 + ((packed[at] << 8) | packed[at + 1])
            tail = fixed + packed[at:stop]
            at = stop
            if owner == last_owner and last_at <= _POINTER_REACH:
                written = pointer(_POINTER | last_at)
            elif prefix is None or zone_ptr is None:
                written = owner
            else:
                written = prefix + zone_ptr
            length = len(written) + len(tail)
            if used + length > size:
                # On in a new message, where the owner is written in full.
                if not count or len(owner) + len(tail) + _HEADER.size > size:
                    raise TooBig(f"a record of {_text(owner)} does not fit in one message")
                head = _HEADER.pack(msg_id, flags, 1 if question_part else 0, count, 0, 0)
                yield b"".join((head, question_part, *parts))
                parts, used, count, zone_ptr = [], _HEADER.size, 0, None
                last_owner, last_at, question_part = b"", 0, b""
                written = owner
                length = len(owner) + len(tail)
            if prefix is not None and zone_ptr is None:
                # The owner goes in full: later names may point into it.
                zone_at = used + len(prefix)
                if zone_at <= _POINTER_REACH:
                    zone_ptr = pointer(_POINTER | zone_at)
            if owner != last_owner:
                last_owner, last_at = owner, used
            parts.append(written + tail)
            used += length
            count += 1
            countdown -= 1
            if not countdown:
                countdown = _YIELD_EVERY
                # Queries first. A query thread waiting for the GIL wakes too
                # slowly to catch a brief release, and would get it back only
                # when the interpreter forces a switch (5 ms). So while
                # queries arrive (any in the last _BUSY_SECONDS), pause:
                # sleep(0) lasts a timer's slack, 50 to 90 µs, in which they
                # are answered. When none do, go on at full speed.
                if beat.count != heard:
                    heard = beat.count
                    busy_until = time.monotonic() + _BUSY_SECONDS
                    time.sleep(0)
                elif busy_until and time.monotonic() < busy_until:
                    time.sleep(0)
    head = _HEADER.pack(msg_id, flags, 1 if question_part else 0, count, 0, 0)
    yield b"".join((head, question_part, *parts))


def _text(owner: bytes) -> str:
    return dns.name.from_wire(owner, 0)[0].to_text()
