"""Identities and their grants: the data the access module (engine/access.py) decides by.

An identity (an HTTP user, a TSIG key; tokens later) holds grants. A
grant names *which names* — exact (``host.example.com.``), a subtree
(``*.lab.example.com.``: every name below ``lab.example.com``), or a regular
expression imported from dyndnsd (``regex:ZONE REGEX``: names in ZONE that the
expression matches as a whole) — and optionally *which record types*. Every
door asks ``engine/access.py``, which asks ``Identity.may``,
before it builds a ChangeSet.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Container
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdatatype

from dynzone.zones.names import key_of, key_within, lower_text

REGEX_PREFIX = "regex:"


class PatternError(ValueError):
    """A grant pattern that cannot be used; the message says why."""


def normalise_pattern(text: str) -> str:
    """Check a pattern and return it in its stored form (absolute, lower case)."""
    text = text.strip()
    if text.startswith(REGEX_PREFIX):
        zone_text, _, expression = text[len(REGEX_PREFIX) :].partition(" ")
        return regex_pattern(zone_text, expression)
    body = text[2:] if text.startswith("*.") else text
    if not body or "*" in body:
        raise PatternError(
            f"{text!r}: use an exact name (host.example.com) or a subtree (*.lab.example.com)"
        )
    try:
        name = dns.name.from_text(body)
    except dns.exception.DNSException as exc:
        raise PatternError(f"{text!r} is not a domain name: {exc}") from None
    if len(name) < 3:
        raise PatternError(f"{text!r} is too broad: name at least a domain like example.com")
    prefix = "*." if text.startswith("*.") else ""
    return prefix + name.to_text().lower()


def parse_host(text: str) -> Grant:
    """A ``user add --host`` value: a pattern, then for an exact name optionally
    ``ipv6-suffix=::1:2:3:4`` (the host's interface identifier, for prefix updates)."""
    pattern, *options = text.split() or [""]  # "" gets normalise_pattern's message
    suffix = ""
    for option in options:
        key, eq, value = option.partition("=")
        if key != "ipv6-suffix" or not eq:
            raise PatternError(
                f"{option!r}: after the host name only ipv6-suffix=SUFFIX may follow"
                " (e.g. 'nas.dyn.example.com ipv6-suffix=::1:2:3:4')"
            )
        try:
            address = ipaddress.IPv6Address(value)
        except ValueError:
            address = None
        if address is None or int(address) == 0:
            raise PatternError(
                f"ipv6-suffix={value!r} is not an IPv6 interface identifier like ::1:2:3:4"
            )
        suffix = str(address)
    normalised = normalise_pattern(pattern)
    if suffix and (normalised.startswith(("*.", REGEX_PREFIX))):
        raise PatternError(f"{pattern!r}: an ipv6-suffix belongs to one host, not to a subtree")
    return Grant(normalised, ipv6_suffix=suffix)


def regex_pattern(zone_text: str, expression: str) -> str:
    """The stored form of a regex grant confined to the zone ``zone_text``.

    The expression must match a whole name (written without the final dot),
    and only names inside the zone are ever tested: a grant made for one
    zone cannot reach a longer name or a name in another zone.
    """
    example = r"regex:dyn.example.com ^home[0-9]+\.dyn\.example\.com$"
    try:
        zone = dns.name.from_text(zone_text) if zone_text else None
    except dns.exception.DNSException:
        zone = None
    if zone is None or len(zone) < 3 or not expression.strip():
        raise PatternError(
            f"{REGEX_PREFIX}{zone_text} {expression}: a regex grant names its zone, then the"
            f" expression, e.g. {example!r}"
        )
    try:
        re.compile(expression)
    except re.error as exc:
        raise PatternError(f"{expression!r} is not a valid regular expression: {exc}") from None
    return f"{REGEX_PREFIX}{zone.to_text().lower()} {expression}"


@functools.lru_cache(maxsize=4096)
def regex_parts(pattern: str) -> tuple[dns.name.Name, str] | None:
    """(zone, expression) of a stored regex grant; None for one that names no zone."""
    zone_text, _, expression = pattern[len(REGEX_PREFIX) :].partition(" ")
    if not zone_text.endswith(".") or not expression:
        return None
    try:
        return dns.name.from_text(zone_text), expression
    except dns.exception.DNSException:
        return None


@functools.lru_cache(maxsize=4096)
def pattern_name(pattern: str) -> dns.name.Name:
    """The name an exact or subtree pattern is about (``*.lab.example.com.``: lab.example.com)."""
    return dns.name.from_text(pattern.removeprefix("*."))


@functools.lru_cache(maxsize=4096)
def pattern_key(pattern: str) -> bytes:
    """The key (zones/names.py) of ``pattern_name``."""
    return key_of(pattern_name(pattern))


@dataclass(frozen=True)
class Grant:
    pattern: str
    types: frozenset[int] = frozenset()  # empty: whatever the door allows by default
    # A host's fixed IPv6 interface identifier (e.g. "::1:2:3:4"): an update that
    # carries a prefix sets the host's AAAA to the prefix plus this (dyndns2).
    ipv6_suffix: str = ""

    def covers_name(self, name: dns.name.Name) -> bool:
        if self.pattern.startswith(REGEX_PREFIX):
            parts = regex_parts(self.pattern)
            if parts is None or not name.is_subdomain(parts[0]):
                return False
            return _compiled(parts[1]).fullmatch(lower_text(name).rstrip(".")) is not None
        # Exact and subtree patterns compare keys (lower-cased wire forms), which
        # the write path has at hand: no name is rendered as text for them.
        key = key_of(name)
        pattern = pattern_key(self.pattern)
        if self.pattern.startswith("*."):
            return len(key) > len(pattern) and key_within(key, pattern)
        return key == pattern

    def describe(self) -> str:
        words = [self.pattern]
        words += sorted(dns.rdatatype.to_text(dns.rdatatype.RdataType.make(t)) for t in self.types)
        if self.ipv6_suffix:
            words.append(f"ipv6-suffix={self.ipv6_suffix}")
        return " ".join(words)


@dataclass(frozen=True)
class Identity:
    name: str  # "user:alice", later "key:acme"
    grants: tuple[Grant, ...]

    def may(self, name: dns.name.Name, rdtype: int, default_types: Container[int]) -> bool:
        """True if some grant covers ``rdtype`` records at ``name``."""
        for grant in self.grants:
            types = grant.types or default_types
            if rdtype in types and grant.covers_name(name):
                return True
        return False


@functools.lru_cache(maxsize=1024)
def _compiled(expression: str) -> re.Pattern[str]:
    return re.compile(expression)


# The records a dyndns2 update may write, unless a grant lists types itself.
ADDRESS_TYPES = frozenset({int(dns.rdatatype.A), int(dns.rdatatype.AAAA)})

# Types a grant without a type list never covers for RFC 2136 updates: the
# zone's own SOA (and NS at the apex, see ``update_defaults``) and DNSSEC data,
# which only a signer should write. A grant that names them does cover them.
DNSSEC_TYPES = frozenset(
    int(t)
    for t in (
        dns.rdatatype.DNSKEY,
        dns.rdatatype.RRSIG,
        dns.rdatatype.NSEC,
        dns.rdatatype.NSEC3,
        dns.rdatatype.NSEC3PARAM,
        dns.rdatatype.DS,
        dns.rdatatype.CDS,
        dns.rdatatype.CDNSKEY,
    )
)
_NOT_BY_DEFAULT = DNSSEC_TYPES | {int(dns.rdatatype.SOA)}
_NOT_BY_DEFAULT_AT_APEX = _NOT_BY_DEFAULT | {int(dns.rdatatype.NS)}


@dataclass(frozen=True)
class AllTypesExcept:
    """Every record type but ``excluded`` (a set too large to list)."""

    excluded: frozenset[int]

    def __contains__(self, rdtype: object) -> bool:
        return rdtype not in self.excluded


def update_defaults(at_apex: bool) -> AllTypesExcept:
    """What a TSIG key's grant without types covers at a name (apex or not)."""
    return AllTypesExcept(_NOT_BY_DEFAULT_AT_APEX if at_apex else _NOT_BY_DEFAULT)


def parse_types(words: list[str]) -> frozenset[int]:
    out = set()
    for w in words:
        try:
            rdtype = dns.rdatatype.from_text(w)
        except dns.exception.DNSException:
            raise PatternError(f"{w!r} is not a record type") from None
        if dns.rdatatype.is_metatype(rdtype) or rdtype == dns.rdatatype.OPT:
            raise PatternError(f"{w!r} is a query type, not a type of record a zone holds")
        out.add(int(rdtype))
    return frozenset(out)
