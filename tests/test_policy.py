"""Grant patterns: exact names, subtrees, dyndnsd regexes, and record types."""

from __future__ import annotations

import dns.name
import dns.rdatatype
import pytest

from dynzone.engine.access import reaches
from dynzone.policy import ADDRESS_TYPES, Grant, Identity, PatternError, normalise_pattern

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
