"""Grant patterns: exact names, subtrees, dyndnsd regexes, and record types."""

from __future__ import annotations

import dns.name
import dns.rdatatype
import pytest

from dynzone.engine.access import reaches
from dynzone.policy import (
    ADDRESS_TYPES,
    Grant,
    Identity,
    PatternError,
    normalise_pattern,
    parse_host,
)

A, AAAA, TXT = dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.TXT


def n(text: str) -> dns.name.Name:
    return dns.name.from_text(text)


def test_patterns_are_stored_absolute_and_lower_case() -> None:
    assert normalise_pattern("Host.Example.COM") == "host.example.com."
    assert normalise_pattern("*.Lab.example.com.") == "*.lab.example.com."


@pytest.mark.parametrize("bad", ["*", "*.com", "a.*.example.com", "", "regex:(", "com"])
def test_patterns_that_are_too_broad_or_broken_are_refused(bad: str) -> None:
    with pytest.raises(PatternError):
        normalise_pattern(bad)


def test_exact_grant_covers_only_that_name() -> None:
    g = Grant(normalise_pattern("host.example.com"))
    assert g.covers_name(n("HOST.example.com."))
    assert not g.covers_name(n("a.host.example.com."))
    assert not g.covers_name(n("ghost.example.com."))


def test_subtree_grant_covers_names_below_but_not_the_apex_itself() -> None:
    g = Grant(normalise_pattern("*.lab.example.com"))
    assert g.covers_name(n("a.lab.example.com.")) and g.covers_name(n("x.y.lab.example.com."))
    assert not g.covers_name(n("lab.example.com."))
    assert not g.covers_name(n("alab.example.com."))


def test_regex_grant_matches_the_name_without_the_final_dot() -> None:
    g = Grant(normalise_pattern(r"regex:dyn.example.org ^[a-z]+\.dyn\.example\.org$"))
    assert g.pattern == r"regex:dyn.example.org. ^[a-z]+\.dyn\.example\.org$"
    assert g.covers_name(n("abc.dyn.example.org."))
    assert not g.covers_name(n("a1.dyn.example.org."))


def test_regex_grant_must_match_the_whole_name() -> None:
    g = Grant(normalise_pattern(r"regex:dyn.example.test home\.dyn\.example\.test"))
    assert g.covers_name(n("home.dyn.example.test."))
    assert not g.covers_name(n("xhome.dyn.example.test."))
    assert not g.covers_name(n("a.home.dyn.example.test."))


def test_regex_grant_stays_inside_its_zone() -> None:
    g = Grant(normalise_pattern(r"regex:dyn.example.test home\.dyn\.example\.test.*"))
    assert not g.covers_name(n("home.dyn.example.test.fz.example.test."))
    who = Identity("user:h", (g,))
    assert reaches(who, n("dyn.example.test."))
    assert not reaches(who, n("fz.example.test."))


@pytest.mark.parametrize("bad", ["regex:^x$", "regex:com ^x$", "regex:dyn.example.test ("])
def test_regex_grant_without_a_zone_or_valid_expression_is_refused(bad: str) -> None:
    with pytest.raises(PatternError):
        normalise_pattern(bad)


def test_types_limit_a_grant_and_none_means_the_doors_default() -> None:
    who = Identity(
        "user:x",
        (Grant("a.example.com."), Grant("b.example.com.", frozenset({int(TXT)}))),
    )
    assert who.may(n("a.example.com."), A, ADDRESS_TYPES)
    assert not who.may(n("a.example.com."), TXT, ADDRESS_TYPES)
    assert who.may(n("b.example.com."), TXT, ADDRESS_TYPES)
    assert not who.may(n("b.example.com."), AAAA, ADDRESS_TYPES)


@pytest.mark.parametrize(
    "pattern", ["host.example.com.", "*.lab.example.com.", "*.example.com.", "a\\.b.example.com."]
)
def test_a_grant_covers_exactly_the_names_its_text_says(pattern: str) -> None:
    # Grants compare keys (lower-cased wire forms); the reference is the plain
    # reading of the pattern's text.
    def by_text(name: dns.name.Name) -> bool:
        text = name.to_text().lower()
        if pattern.startswith("*."):
            return text.endswith(pattern[1:]) and len(text) > len(pattern) - 1
        return text == pattern

    names = [
        "host.example.com.", "HOST.Example.COM.", "x.host.example.com.", "lab.example.com.",
        "a.lab.example.com.", "A.B.LAB.example.com.", "alab.example.com.", "example.com.",
        "a\\.b.example.com.", "a.b.example.com.", "other.org.", "x.example.com.",
    ]  # fmt: skip
    grant = Grant(pattern)
    for text in names:
        name = dns.name.from_text(text)
        assert grant.covers_name(name) is by_text(name), (pattern, text)


def test_a_host_may_carry_an_ipv6_suffix() -> None:
    grant = parse_host("NAS.dyn.example.com ipv6-suffix=0:0:0:0:1:2:3:4")
    assert grant == Grant("nas.dyn.example.com.", ipv6_suffix="::1:2:3:4")
    assert grant.describe() == "nas.dyn.example.com. ipv6-suffix=::1:2:3:4"
    assert parse_host("*.lab.example.com") == Grant("*.lab.example.com.")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "use an exact name"),
        ("   ", "use an exact name"),
        ("nas.example.com ipv6=::1", "only ipv6-suffix=SUFFIX may follow"),
        ("nas.example.com ipv6-suffix=::", "not an IPv6 interface identifier"),
        ("nas.example.com ipv6-suffix=192.0.2.1", "not an IPv6 interface identifier"),
        ("*.lab.example.com ipv6-suffix=::1", "belongs to one host"),
    ],
)
def test_a_host_that_cannot_be_used_is_a_pattern_error(text: str, message: str) -> None:
    with pytest.raises(PatternError, match=message):
        parse_host(text)
