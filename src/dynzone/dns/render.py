"""Render an ``Answer`` to wire format, truncating the way NSD does.

The answer section and a required authority section must fit whole, or the
reply carries TC and no records at all (the client retries over TCP). The NS
RRset of a positive answer and additional data are optional: what does not fit
is left out without TC (RFC 2181 §9).

Rendering is written here rather than with dnspython's renderer because it is
what an uncached query pays for: dnspython keys its compression table by Name
objects, whose hashing walks every character in Python. We key it by the
lower-cased wire form of each suffix, and ask dnspython only for the rdata of
types whose rdata is never compressed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import dns.flags
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

from dynzone.dns.answer import Answer

OPT_SIZE = 11  # an OPT RR without options
_POINTER_LIMIT = 0x4000  # compression pointers reach only the first 16 KiB

# RFC 3597 §4: names inside rdata may be compressed only for the RFC 1035
# types. Single-name types first, then the ones with other fields.
_ONE_NAME = {
    dns.rdatatype.NS: "target",
    dns.rdatatype.MD: "target",
    dns.rdatatype.MF: "target",
    dns.rdatatype.CNAME: "target",
    dns.rdatatype.MB: "target",
    dns.rdatatype.MG: "target",
    dns.rdatatype.MR: "target",
    dns.rdatatype.PTR: "target",
}
_MX = dns.rdatatype.MX
_SOA = dns.rdatatype.SOA
_MINFO = dns.rdatatype.MINFO
_RR_HEADER = struct.Struct("!HHIH")


class TooBig(Exception):
    """The RRset does not fit in the space left."""


@dataclass(frozen=True, slots=True)
class EdnsReply:
    """The OPT record we send back: our payload size, the echoed DO bit, and our
    options (whole, as wire bytes: a COOKIE)."""

    payload: int
    do: bool = False
    options: bytes = b""


class WireWriter:
    """A DNS message body with RFC 1035 §4.1.4 name compression.

    ``serials`` collects where each SOA serial went (offset, the zone's key),
    so that a cached copy can be served later with the zone's newer serial.
    """

    __slots__ = ("added", "buf", "serials", "table")

    def __init__(self) -> None:
        self.buf = bytearray(12)  # the header is written last
        self.table: dict[bytes, int] = {}
        self.added: list[bytes] = []
        self.serials: list[tuple[int, bytes]] = []

    def name(self, name: dns.name.Name, compress: bool = True) -> None:
        labels = name.labels
        buf = self.buf
        count = len(labels) - 1  # the root label is the final zero byte
        if count <= 0:
            buf.append(0)
            return
        # Keys of the suffixes, longest first.
        keys: list[bytes] = [b""] * count
        acc = b"\x00"
        for i in range(count - 1, -1, -1):
            label = labels[i]
            acc = bytes((len(label),)) + label.lower() + acc
            keys[i] = acc
        table = self.table
        for i in range(count):
            if compress:
                pointer = table.get(keys[i])
                if pointer is not None:
                    buf += (0xC000 | pointer).to_bytes(2, "big")
                    return
                pos = len(buf)
                if pos < _POINTER_LIMIT:
                    table[keys[i]] = pos
                    self.added.append(keys[i])
            label = labels[i]
            buf.append(len(label))
            buf += label
        buf.append(0)

    def question(self, qname: dns.name.Name, qtype: int, qclass: int) -> None:
        self.name(qname)
        self.buf += struct.pack("!HH", qtype, qclass)

    def rrset(self, rrset: dns.rrset.RRset, room: int) -> int:
        """Append every RR of ``rrset``; raise TooBig (changing nothing) past ``room``."""
        buf = self.buf
        start = len(buf)
        mark = len(self.added)
        rdtype = rrset.rdtype
        head = _RR_HEADER.pack(rdtype, rrset.rdclass, rrset.ttl, 0)
        one_name = _ONE_NAME.get(rdtype)
        for rd in rrset:
            self.name(rrset.name)
            buf += head
            at = len(buf)
            if one_name is not None:
                self.name(getattr(rd, one_name))
            elif rdtype == _MX:
                buf += rd.preference.to_bytes(2, "big")
                self.name(rd.exchange)
            elif rdtype == _SOA:
                self.name(rd.mname)
                self.name(rd.rname)
                self.serials.append((len(buf), rrset.name.to_wire().lower()))  # type: ignore[union-attr]
                buf += struct.pack(
                    "!IIIII",
                    rd.serial,
                    rd.refresh,
                    rd.retry,
                    rd.expire,
                    rd.minimum,
                )
            elif rdtype == _MINFO:
                self.name(rd.rmailbx)
                self.name(rd.emailbx)
            else:
                buf += rd.to_wire()
            buf[at - 2 : at] = (len(buf) - at).to_bytes(2, "big")
        if len(buf) > room:
            self.rollback(start, mark)
            raise TooBig
        return len(rrset)

    def rollback(self, size: int, mark: int) -> None:
        del self.buf[size:]
        self.serials = [s for s in self.serials if s[0] < size]
        for key in self.added[mark:]:
            del self.table[key]
        del self.added[mark:]


def render(
    qname: dns.name.Name,
    qtype: int,
    qclass: int,
    msg_id: int,
    flags: int,
    ans: Answer,
    edns: EdnsReply | None,
    max_size: int,
    anchors: tuple[bytes, ...] = (),
    serials: list[tuple[int, bytes]] | None = None,
) -> bytes:
    """Return the reply's wire bytes, at most ``max_size`` long.

    ``serials``, if given, receives the offset of every SOA serial in the
    reply with the key of its zone (see ``WireWriter``).

    With ``anchors`` (keys of suffixes of ``qname``), names in the answer are
    compressed against the question only at those suffixes. The body then
    depends on the question only through its length, and may be reused for
    other names of that length (see ``Responder._prepare``).
    """
    rflags, ext = dns.rcode.to_flags(dns.rcode.Rcode.make(ans.rcode))
    flags |= dns.flags.QR | rflags
    if ans.aa:
        flags |= dns.flags.AA
    room = max_size - (OPT_SIZE + len(edns.options) if edns is not None else 0)
    w = WireWriter()
    if anchors:
        wire = qname.to_wire()
        assert wire is not None
        w.buf += wire + struct.pack("!HH", qtype, qclass)
        for anchor in anchors:
            w.table[anchor] = 12 + len(wire) - len(anchor)
    else:
        w.question(qname, qtype, qclass)
    after_question = len(w.buf)
    counts = [0, 0, 0]
    try:
        for rrset in ans.answer:
            counts[0] += w.rrset(rrset, room)
        authority_fits = True
        for rrset in ans.authority:
            try:
                counts[1] += w.rrset(rrset, room)
            except TooBig:
                if not ans.optional_authority:
                    raise
                authority_fits = False
                break
    except TooBig:
        flags |= dns.flags.TC
        w.rollback(after_question, 0)
        counts = [0, 0, 0]
    else:
        if authority_fits:
            for rrset in ans.additional:
                try:
                    counts[2] += w.rrset(rrset, room)
                except TooBig:
                    break
    if edns is not None:
        ednsflags = ext | (dns.flags.DO if edns.do else 0)
        w.buf += struct.pack(
            "!BHHIH", 0, dns.rdatatype.OPT, edns.payload, ednsflags, len(edns.options)
        )
        w.buf += edns.options
        counts[2] += 1
    struct.pack_into("!HHHHHH", w.buf, 0, msg_id, flags, 1, *counts)
    if serials is not None:
        serials += w.serials
    return bytes(w.buf)
