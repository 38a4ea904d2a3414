"""A fast reader for the plain zone files big zones are made of.

dnspython's reader costs about 80 µs a record (its tokenizer and validating
constructors): a million-record zone took over a minute to import. Most
lines of a big zone are plain: an owner, maybe a TTL and class, and one of a
few common types whose rdata are one or a few simple tokens. This reader
follows dnspython's reader rule for rule (owners, TTL defaults, $ORIGIN and
$TTL, names outside the zone) and writes those records straight as the
store's rows, rdata in wire form, with no dnspython object per record (A,
AAAA, NS, CNAME, PTR, MX, SRV, TXT, and an SOA whose timers are plain
seconds); the rdata of every other type or form (CAA, SSHFP, an SOA with
"1h"...) is handed to dnspython's own rdata parser with the record's text.

It gives up on the whole file, and dnspython's reader reads it instead,
whenever anything is less than plain: backslash escapes, non-ASCII text,
$INCLUDE, $GENERATE or $UNICODE, anything it does not read exactly as
dnspython would, and any error, so that errors are always dnspython's,
with their file and line. tests/zones/test_quick_zonefile.py proves both
readers give the same rows, in the same order and from the same lines, for
a large varied file.
"""

from __future__ import annotations

import re
import socket
import struct

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.ttl

from dynzone.zones.names import (
    LENGTH_BYTE,
    key_from,
    key_within,
    name_text,
    name_wire,
    plain_text,
)
from dynzone.zones.snapshot import StoredRow
from dynzone.zones.trusted_rdata import name_of_labels
from dynzone.zones.wire import fresh_wire
from dynzone.zones.zone_rows import ZoneRows
from dynzone.zones.zonefile import Location, ParsedZone


class _NotPlain(Exception):
    """The file needs dnspython's reader."""


_IN = dns.rdataclass.IN
_SOA = dns.rdatatype.SOA
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
                   r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\Z")  # fmt: skip
_inet_aton = socket.inet_aton
_IPV6 = re.compile(r"[0-9A-Fa-f:]+\Z")
_NAME_CHARS = re.compile(r"[A-Za-z0-9_*./-]+\Z")
_LABEL = re.compile(r"[A-Za-z0-9_*-]{1,63}\Z")  # a label dnspython writes as it is
_ONE_NAME = frozenset({dns.rdatatype.NS, dns.rdatatype.CNAME, dns.rdatatype.PTR})
_U16 = struct.Struct("!H")
_SRV_HEAD = struct.Struct("!HHH")
_SOA_TIMERS = struct.Struct("!IIIII")
_MX = dns.rdatatype.MX
_TXT = dns.rdatatype.TXT
_SRV = dns.rdatatype.SRV
_A = dns.rdatatype.A
_AAAA = dns.rdatatype.AAAA
_MAX_U32 = 0xFFFFFFFF  # an SOA's serial and timers (dnspython's MAX_TTL)
# Class names dnspython knows besides IN: a record of those is an error
# (dnspython's to report).
_OTHER_CLASSES = {c.name for c in dns.rdataclass.RdataClass if c != _IN}
# A type as written -> its number (dnspython's lookup is slow).
_TYPES: dict[str, dns.rdatatype.RdataType] = {}


def quick_parse(text: str, filename: str, origin: dns.name.Name) -> ParsedZone | None:
    """The records of zone-file ``text`` as dnspython's reader gives them, or None
    if the file is not plain enough to be read here."""
    if "\\" in text or not text.isascii():
        return None
    try:
        return _Reader(filename, origin).read(text)
    except (_NotPlain, dns.exception.DNSException, ValueError, OSError):
        return None


class _Reader:
    """The state dnspython's reader keeps between lines, and the lines' rules."""

    def __init__(self, filename: str, origin: dns.name.Name) -> None:
        self.filename = filename
        self.zone_origin = origin
        self.zone_key = key_from(origin)
        self.origin = origin  # $ORIGIN
        self.origin_text = ""
        self.origin_length = 0
        self._set_origin(origin)
        self.last_ttl = 0
        self.last_ttl_known = False
        self.default_ttl = 0
        self.default_ttl_known = False
        self.default_ttl_from_soa = False
        self.rows: list[StoredRow] = []
        self.lines: list[int] = []
        self.outside: list[tuple[dns.name.Name, Location]] = []
        # Names already made, and the wire form of rdata names, by text and
        # origin: owners and targets repeat line after line.
        self.names: dict[str, dns.name.Name] = {}
        self.wires: dict[str, bytes] = {}
        self.names_origin = origin  # the origin the remembered names were read under
        self.inside: dict[tuple[bytes, ...], bool] = {}  # whether a name is in the zone
        # The owner of the line being read (until the next line with one):
        # as written and the $ORIGIN it was read under, its texts, whether
        # it is in the zone, and its name object if one was made.
        self.owner_word: str | None = None  # None: the zone's origin, at the start
        self.owner_origin = origin
        self.owner = name_text(origin)
        self.owner_key = self.owner.lower()
        self.owner_inside = True
        self.owner_made: dns.name.Name | None = origin
        self.soa_minimum = 0  # of the last SOA read

    def read(self, text: str) -> ParsedZone:
        lines = text.split("\n")
        number = 0
        count = len(lines)
        while number < count:
            line = lines[number]
            number += 1
            start = number
            if '"' in line:
                line = _uncomment_quoted(line)
            elif ";" in line:
                line = line[: line.index(";")]
            if ("(" in line or ")" in line) and _grouping(line):
                # A record over several lines: up to the closing parenthesis.
                depth = _depth(line)
                while depth > 0:
                    if number >= count:
                        raise _NotPlain  # unbalanced: dnspython's error
                    more = lines[number]
                    number += 1
                    more = _uncomment_quoted(more) if '"' in more else more.split(";", 1)[0]
                    depth += _depth(more)
                    line += " " + more
                if depth < 0 or '"' in line:
                    raise _NotPlain  # unbalanced, or parentheses and quotes together
                line = line.replace("(", " ").replace(")", " ")
            if not line or line.isspace():
                continue
            if line[0] == "$":
                self._directive(line.split())
                continue
            self._record(line, start)
        return ParsedZone(
            ZoneRows(self.rows, self.lines, self.filename, inside=True), [], self.outside
        )

    def _directive(self, words: list[str]) -> None:
        word = words[0].upper()
        if word == "$TTL" and len(words) == 2:
            self.default_ttl = dns.ttl.from_text(words[1])
            self.default_ttl_known = True
            self.default_ttl_from_soa = False
        elif word == "$ORIGIN" and len(words) == 2:
            self._set_origin(self._name(words[1], self.origin))
        else:
            raise _NotPlain  # $INCLUDE, $GENERATE, $UNICODE, or an error

    def _record(self, line: str, number: int) -> None:
        if '"' in line:
            head, quote, rest = line.partition('"')
            words = head.split()
            tail: str | None = quote + rest
        else:
            words = line.split()
            tail = None
        at = 0
        if not line[0].isspace():
            at = 1
            if words[0] != self.owner_word or self.origin is not self.owner_origin:
                self._owner(words[0])
        if not self.owner_inside:
            self.outside.append((self._owner_name(), Location(self.filename, number)))
            return
        # [TTL] [class] [TTL] type: dnspython's order of trying.
        count = len(words)
        ttl = None
        if at < count and words[at][0].isdigit():
            ttl = self._ttl(words[at])
            if ttl is not None:
                at += 1
        if at >= count:
            raise _NotPlain  # no type: dnspython's error
        word = words[at]
        rdtype = _TYPES.get(word)  # (a word known as a type is no class)
        if rdtype is None:
            upper = word.upper()
            if upper == "IN":
                at += 1
            elif upper in _OTHER_CLASSES or upper.startswith("CLASS"):
                raise _NotPlain  # another class: dnspython's error
            if ttl is None and at < count and words[at][0].isdigit():
                ttl = self._ttl(words[at])
                if ttl is not None:
                    at += 1
            if at >= count:
                raise _NotPlain  # no type: dnspython's error
            word = words[at]
            rdtype = _TYPES.get(word)
            if rdtype is None:
                rdtype = _TYPES[word] = dns.rdatatype.from_text(word)
        if ttl is None:
            ttl = self._implicit_ttl()
        if (
            rdtype == _A
            and ttl is not None
            and tail is None
            and count == at + 2
            and _IPV4.match(words[at + 1])
        ):
            # Most records of a big zone: the address as written is dnspython's form.
            wire = _inet_aton(words[at + 1])
        else:
            args = words[at + 1 :]
            found = self._rdata(rdtype, args, tail)
            if found is None:
                text = " ".join(args) + ("" if tail is None else " " + tail)
                rdata = dns.rdata.from_text(_IN, rdtype, text, self.origin, False, self.zone_origin)
                found = fresh_wire(rdata)
                if rdtype == _SOA:
                    self.soa_minimum = rdata.minimum  # type: ignore[attr-defined]
            wire = found
            if not self.default_ttl_known and rdtype == _SOA:
                self.default_ttl = self.soa_minimum
                self.default_ttl_known = True
                self.default_ttl_from_soa = True
                if ttl is None:
                    ttl = self._implicit_ttl()
            if ttl is None:
                raise _NotPlain  # "Missing default TTL value": dnspython's error
        self.rows.append((self.owner_key, self.owner, rdtype, ttl, wire))
        self.lines.append(number)

    def _owner(self, word: str) -> None:
        """Take the name ``word`` as the owner of this line and the next blank-owner
        lines: its texts, and whether it is in the zone."""
        self.owner_word = word
        self.owner_origin = origin = self.origin
        if (
            "." not in word
            and self.origin_text
            and _LABEL.match(word)
            and len(word) + self.origin_length < 255
        ):
            # One label below an $ORIGIN in the zone (most owners): its texts
            # are made directly, with no name object.
            self.owner = word + self.origin_text
            self.owner_key = self.owner.lower()
            self.owner_inside = True
            self.owner_made = None
            return
        name = self.owner_made = self._name(word, origin)
        labels = name.labels
        inside = self.inside.get(labels)
        if inside is None:
            if len(self.inside) > 4096:
                self.inside.clear()
            inside = self.inside[labels] = key_within(key_from(name), self.zone_key)
        self.owner_inside = inside
        if inside:
            self.owner = name_text(name)
            self.owner_key = self.owner.lower()

    def _owner_name(self) -> dns.name.Name:
        if self.owner_made is None:
            self.owner_made = self._name(self.owner_word or "@", self.owner_origin)
        return self.owner_made

    def _set_origin(self, origin: dns.name.Name) -> None:
        """$ORIGIN (and the zone's origin at the start): what owners are read under."""
        self.origin = origin
        text = plain_text(origin.labels)
        inside = key_within(key_from(origin), self.zone_key)
        # "." and the origin's text, for owners of one label below it.
        self.origin_text = "." + text if text is not None and inside else ""
        self.origin_length = len(name_wire(origin))

    def _ttl(self, word: str) -> int | None:
        """``word`` as a TTL (noted as the last TTL) if it is one (it starts with a digit)."""
        if word.isdigit():
            ttl = int(word)
            if ttl > dns.ttl.MAX_TTL:
                raise _NotPlain
        else:
            try:
                ttl = dns.ttl.from_text(word)
            except dns.ttl.BadTTL:
                return None
        self.last_ttl = ttl
        self.last_ttl_known = True
        return ttl

    def _implicit_ttl(self) -> int | None:
        if self.last_ttl_known and (not self.default_ttl_known or self.default_ttl_from_soa):
            return self.last_ttl
        if self.default_ttl_known:
            return self.default_ttl
        return None

    def _rdata(self, rdtype: int, args: list[str], tail: str | None) -> bytes | None:
        """The wire form of the common types' rdata; None for dnspython to read."""
        if rdtype == _TXT:
            strings = _txt_strings(args, tail)
            if strings is None:
                return None
            return b"".join([LENGTH_BYTE[len(s)] + s for s in strings])
        if tail is not None:
            return None
        if rdtype == _A:
            if len(args) != 1 or not _IPV4.match(args[0]):
                raise _NotPlain
            return socket.inet_aton(args[0])  # (the pattern admits dnspython's form only)
        if rdtype == _AAAA:
            if len(args) != 1 or not _IPV6.match(args[0]):
                return None
            return socket.inet_pton(socket.AF_INET6, args[0])
        if rdtype in _ONE_NAME:
            if len(args) != 1:
                raise _NotPlain
            return self._wire(args[0])
        if rdtype == _MX:
            if len(args) != 2 or not args[0].isdigit() or int(args[0]) > 0xFFFF:
                raise _NotPlain
            return _U16.pack(int(args[0])) + self._wire(args[1])
        if rdtype == _SOA:
            # Timers in plain seconds (dnspython reads units too: those it does).
            if len(args) != 7 or not all(a.isdigit() and int(a) <= _MAX_U32 for a in args[2:]):
                return None
            timers = [int(a) for a in args[2:]]
            self.soa_minimum = timers[4]
            return self._wire(args[0]) + self._wire(args[1]) + _SOA_TIMERS.pack(*timers)
        if rdtype == _SRV:
            if len(args) != 4 or not all(a.isdigit() and int(a) <= 0xFFFF for a in args[:3]):
                raise _NotPlain
            head = _SRV_HEAD.pack(int(args[0]), int(args[1]), int(args[2]))
            return head + self._wire(args[3])
        return None

    def _wire(self, text: str) -> bytes:
        """The wire form of the name ``text`` in rdata, as ``_name`` reads it."""
        origin = self.origin
        if origin is not self.names_origin:
            self._name(text, origin)  # (starts both caches over)
        wire = self.wires.get(text)
        if wire is None:
            wire = name_wire(self._name(text, origin))
            if len(self.wires) > 4096:
                self.wires.clear()
            self.wires[text] = wire
        return wire

    def _name(self, text: str, origin: dns.name.Name) -> dns.name.Name:
        """``text`` as an absolute name (relative ones below ``origin``), as
        dnspython reads it; anything unusual is left to dnspython."""
        # Remembered by text while the origin stays (the cache starts over
        # at every $ORIGIN): dnspython hashes a name object character by
        # character, so it is no part of the key.
        if origin is not self.names_origin:
            self.names.clear()
            self.wires.clear()
            self.names_origin = origin
        known = self.names.get(text)
        if known is not None:
            return known
        if text == "@":
            name = origin
        elif text == ".":
            name = dns.name.root
        elif not _NAME_CHARS.match(text) or ".." in text or text.startswith("."):
            raise _NotPlain
        else:
            if "." not in text:  # one label below the origin: most owners
                labels: tuple[bytes, ...] = (text.encode(), *origin.labels)
            elif text.endswith("."):
                labels = (*(label.encode() for label in text[:-1].split(".")), b"")
            else:
                labels = (*(label.encode() for label in text.split(".")), *origin.labels)
            if sum(map(len, labels)) + len(labels) > 255 or max(map(len, labels)) > 63:
                raise _NotPlain
            name = name_of_labels(labels)
        if len(self.names) > 4096:
            self.names.clear()
        self.names[text] = name
        return name


def _grouping(line: str) -> bool:
    """Whether ``line`` has parentheses outside quotes."""
    outside = "".join(line.split('"')[::2]) if '"' in line else line
    return "(" in outside or ")" in outside


def _depth(text: str) -> int:
    """How many parentheses ``text`` opens, less those it closes (quotes aside)."""
    if '"' in text:
        text = "".join(text.split('"')[::2])
    return text.count("(") - text.count(")")


def _uncomment_quoted(line: str) -> str:
    """``line`` without its comment, where quotes may hold a ';'."""
    parts = line.split('"')
    if len(parts) % 2 == 0:
        raise _NotPlain  # an unclosed quote
    for i in range(0, len(parts), 2):
        if ";" in parts[i]:
            parts[i] = parts[i][: parts[i].index(";")]
            return '"'.join(parts[: i + 1])
    return line


def _txt_strings(args: list[str], tail: str | None) -> tuple[bytes, ...] | None:
    """The character-strings of a TXT record's text: quoted, or bare words."""
    strings = [word.encode() for word in args]
    if tail is not None:
        parts = tail.split('"')
        # parts: before the first quote (empty), then inside, outside, inside...
        for i, part in enumerate(parts[1:], 1):
            if i % 2:
                strings.append(part.encode())
            else:
                if "(" in part or ")" in part:
                    return None
                strings += [word.encode() for word in part.split()]
    if not strings or any(len(s) > 255 for s in strings):
        raise _NotPlain  # dnspython's error
    return tuple(strings)
