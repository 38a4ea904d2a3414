"""One policy engine: identities and their grants (DESIGN.md principle 5).

An identity (an HTTP user now; TSIG keys and tokens later) holds grants. A
grant names *which names* — exact (``host.example.com.``), a subtree
(``*.lab.example.com.``: every name below ``lab.example.com``), or a regular
expression imported from dyndnsd (``regex:...``) — and optionally *which record
types*. Every door asks ``Identity.may`` before it builds a ChangeSet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdatatype

REGEX_PREFIX = "regex:"


class PatternError(ValueError):
    """A grant pattern that cannot be used; the message says why."""


def normalise_pattern(text: str) -> str:
    """Check a pattern and return it in its stored form (absolute, lower case)."""
    text = text.strip()
    if text.startswith(REGEX_PREFIX):
        try:
            re.compile(text[len(REGEX_PREFIX) :])
        except re.error as exc:
            raise PatternError(f"{text!r} is not a valid regular expression: {exc}") from None
        return text
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


@dataclass(frozen=True)
class Grant:
    pattern: str
    types: frozenset[int] = frozenset()  # empty: whatever the door allows by default

    def covers_name(self, name: dns.name.Name) -> bool:
        text = name.to_text().lower()
        if self.pattern.startswith(REGEX_PREFIX):
            return re.search(self.pattern[len(REGEX_PREFIX) :], text.rstrip(".")) is not None
        if self.pattern.startswith("*."):
            parent = self.pattern[1:]  # ".lab.example.com."
            return text.endswith(parent) and len(text) > len(parent)
        return text == self.pattern

    def describe(self) -> str:
        if not self.types:
            return self.pattern
        return (
            self.pattern
            + " "
            + " ".join(
                sorted(dns.rdatatype.to_text(dns.rdatatype.RdataType.make(t)) for t in self.types)
            )
        )


@dataclass(frozen=True)
class Identity:
    name: str  # "user:alice", later "key:acme"
    grants: tuple[Grant, ...]

    def may(self, name: dns.name.Name, rdtype: int, default_types: frozenset[int]) -> bool:
        """True if some grant covers ``rdtype`` records at ``name``."""
        for grant in self.grants:
            types = grant.types or default_types
            if rdtype in types and grant.covers_name(name):
                return True
        return False


def parse_types(words: list[str]) -> frozenset[int]:
    out = set()
    for w in words:
        try:
            out.add(int(dns.rdatatype.from_text(w)))
        except dns.exception.DNSException:
            raise PatternError(f"{w!r} is not a record type") from None
    return frozenset(out)
