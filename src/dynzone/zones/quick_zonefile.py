"""A fast reader for the plain zone files big zones are made of.

dnspython's reader costs about 80 µs a record (its tokenizer and validating
constructors): a million-record zone took over a minute to import. Most
lines of a big zone are plain: an owner, maybe a TTL and class, and one of a
few common types whose rdata are one or a few simple tokens. This reader
follows dnspython's reader rule for rule (owners, TTL defaults, $ORIGIN and
$TTL, names outside the zone) and makes those records directly (A, AAAA,
NS, CNAME, PTR, MX, SRV, TXT, and an SOA whose timers are plain seconds);
the rdata of every other type or form (CAA, SSHFP, an SOA with "1h"...) is
handed to dnspython's own rdata parser with the record's text.

It gives up on the whole file, and dnspython's reader reads it instead,
whenever anything is less than plain: backslash escapes, non-ASCII text,
$INCLUDE, $GENERATE or $UNICODE, anything it does not read exactly as
dnspython would, and any error, so that errors are always dnspython's,
with their file and line. tests/zones/test_quick_zonefile.py proves both
readers give the same records, in the same order, for a large varied file.
"""

from __future__ import annotations

import re
import socket

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.rdtypes.ANY.MX
import dns.rdtypes.ANY.NS
import dns.rdtypes.ANY.PTR
import dns.rdtypes.ANY.SOA
import dns.rdtypes.ANY.TXT
import dns.rdtypes.IN.SRV
import dns.ttl

from dynzone.zones.names import key_from, key_within
from dynzone.zones.trusted_rdata import (
    a_record_from_text,
    aaaa_record,
    name_of_labels,
    rdata_of,
)
from dynzone.zones.zonefile import Location, ParsedZone, Record


class _NotPlain(Exception):
    """The file needs dnspython's reader."""


_IN = dns.rdataclass.IN
_SOA = dns.rdatatype.SOA
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
                   r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\Z")  # fmt: skip
_IPV6 = re.compile(r"[0-9A-Fa-f:]+\Z")
_NAME_CHARS = re.compile(r"[A-Za-z0-9_*./-]+\Z")
_ONE_NAME: dict[int, type[dns.rdata.Rdata]] = {
    dns.rdatatype.NS: dns.rdtypes.ANY.NS.NS,
    dns.rdatatype.CNAME: dns.rdtypes.ANY.CNAME.CNAME,
    dns.rdatatype.PTR: dns.rdtypes.ANY.PTR.PTR,
}
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
        self.last_name = origin
        self.last_ttl = 0
        self.last_ttl_known = False
        self.default_ttl = 0
        self.default_ttl_known = False
        self.default_ttl_from_soa = False
        self.records: list[Record] = []
        self.outside: list[tuple[dns.name.Name, Location]] = []
        # Names already made, by text and origin: owners repeat line after line.
        self.names: dict[str, dns.name.Name] = {}
        self.names_origin = origin  # the origin the remembered names were read under
        self.inside: dict[tuple[bytes, ...], bool] = {}  # whether a name is in the zone
        self.inside_name: dns.name.Name | None = None  # the last owner found inside
        self.zone_labels = origin.labels

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
        return ParsedZone(self.records, [], self.outside)

    def _directive(self, words: list[str]) -> None:
        word = words[0].upper()
        if word == "$TTL" and len(words) == 2:
            self.default_ttl = dns.ttl.from_text(words[1])
            self.default_ttl_known = True
            self.default_ttl_from_soa = False
        elif word == "$ORIGIN" and len(words) == 2:
            self.origin = self._name(words[1], self.origin)
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
            self.last_name = self._name(words[0], self.origin)
            at = 1
        name = self.last_name
        if name is not self.inside_name:
            labels = name.labels
            # Most owners are one label below the apex, written as that label.
            inside = labels[1:] == self.zone_labels or self.inside.get(labels)
            if inside is None:
                if len(self.inside) > 4096:
                    self.inside.clear()
                inside = key_within(key_from(name), self.zone_key)
                self.inside[labels] = inside
            if not inside:
                self.outside.append((name, Location(self.filename, number)))
                return
            self.inside_name = name  # its next records need no check
        # [TTL] [class] [TTL] type: dnspython's order of trying.
        ttl = self._ttl(words, at)
        if ttl is not None:
            at += 1
        if at < len(words):
            word = words[at].upper()
            if word == "IN":
                at += 1
            elif word in _OTHER_CLASSES or word.startswith("CLASS"):
                raise _NotPlain  # another class: dnspython's error
        if ttl is None:
            ttl = self._ttl(words, at)
            if ttl is not None:
                at += 1
            else:
                ttl = self._implicit_ttl()
        if at >= len(words):
            raise _NotPlain  # no type: dnspython's error
        rdtype = _TYPES.get(words[at])
        if rdtype is None:
            rdtype = _TYPES[words[at]] = dns.rdatatype.from_text(words[at])
        args = words[at + 1 :]
        rdata = self._rdata(rdtype, args, tail)
        if rdata is None:
            text = " ".join(args) + ("" if tail is None else " " + tail)
            rdata = dns.rdata.from_text(_IN, rdtype, text, self.origin, False, self.zone_origin)
        if not self.default_ttl_known and rdtype == _SOA:
            self.default_ttl = rdata.minimum  # type: ignore[attr-defined]
            self.default_ttl_known = True
            self.default_ttl_from_soa = True
            if ttl is None:
                ttl = self._implicit_ttl()
        if ttl is None:
            raise _NotPlain  # "Missing default TTL value": dnspython's error
        self.records.append(Record(name, ttl, rdata, Location(self.filename, number)))

    def _ttl(self, words: list[str], at: int) -> int | None:
        """The TTL at ``words[at]``, if that is one (noted as the last TTL)."""
        if at >= len(words):
            return None
        word = words[at]
        if not word[0].isdigit():
            return None  # dnspython's TTL reader refuses it at its first character
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

    def _rdata(self, rdtype: int, args: list[str], tail: str | None) -> dns.rdata.Rdata | None:
        """The rdata of the common types made directly; None for dnspython to read."""
        if rdtype == _TXT:
            strings = _txt_strings(args, tail)
            if strings is None:
                return None
            return rdata_of(dns.rdtypes.ANY.TXT.TXT, _TXT, strings=strings)
        if tail is not None:
            return None
        if rdtype == _A:
            if len(args) != 1 or not _IPV4.match(args[0]):
                raise _NotPlain
            return a_record_from_text(args[0])  # (the pattern admits dnspython's form only)
        if rdtype == _AAAA:
            if len(args) != 1 or not _IPV6.match(args[0]):
                return None
            return aaaa_record(socket.inet_pton(socket.AF_INET6, args[0]), remember=False)
        cls = _ONE_NAME.get(rdtype)
        if cls is not None:
            if len(args) != 1:
                raise _NotPlain
            return rdata_of(cls, rdtype, target=self._name(args[0], self.origin))
        if rdtype == _MX:
            if len(args) != 2 or not args[0].isdigit() or int(args[0]) > 0xFFFF:
                raise _NotPlain
            exchange = self._name(args[1], self.origin)
            return rdata_of(dns.rdtypes.ANY.MX.MX, _MX, preference=int(args[0]), exchange=exchange)
        if rdtype == _SOA:
            # Timers in plain seconds (dnspython reads units too: those it does).
            if len(args) != 7 or not all(a.isdigit() and int(a) <= _MAX_U32 for a in args[2:]):
                return None
            serial, refresh, retry, expire, minimum = (int(a) for a in args[2:])
            return rdata_of(
                dns.rdtypes.ANY.SOA.SOA, _SOA,
                mname=self._name(args[0], self.origin), rname=self._name(args[1], self.origin),
                serial=serial, refresh=refresh, retry=retry, expire=expire, minimum=minimum,
            )  # fmt: skip
        if rdtype == _SRV:
            if len(args) != 4 or not all(a.isdigit() and int(a) <= 0xFFFF for a in args[:3]):
                raise _NotPlain
            priority, weight, port = (int(a) for a in args[:3])
            target = self._name(args[3], self.origin)
            return rdata_of(
                dns.rdtypes.IN.SRV.SRV, _SRV,
                priority=priority, weight=weight, port=port, target=target,
            )  # fmt: skip
        return None

    def _name(self, text: str, origin: dns.name.Name) -> dns.name.Name:
        """``text`` as an absolute name (relative ones below ``origin``), as
        dnspython reads it; anything unusual is left to dnspython."""
        # Remembered by text while the origin stays (the cache starts over
        # at every $ORIGIN): dnspython hashes a name object character by
        # character, so it is no part of the key.
        if origin is not self.names_origin:
            self.names.clear()
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
