"""dynzone must answer every corpus query the way NSD or Knot does."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import dns.rdatatype
import pytest

from tests.e2e.corpus import Query, build_corpus
from tests.e2e.differential import Normal, ask, classify_split, describe, normalise
from tests.peers import Server

DISAGREEMENTS = Path(__file__).parent / "DISAGREEMENTS.md"


@dataclass
class Comparison:
    total: int = 0
    failures: list[tuple[Query, Normal, Normal, Normal]] = field(default_factory=list)
    splits: Counter[str] = field(default_factory=Counter)
    unexplained: list[tuple[Query, Normal, Normal]] = field(default_factory=list)
    split_cases: set[tuple[str, str, str]] = field(default_factory=set)  # reason, name, type
    truncated: list[Query] = field(default_factory=list)


@pytest.fixture(scope="module")
def udp_comparison(nsd_server: Server, knot_server: Server, dynzone_server: Server) -> Comparison:
    result = Comparison()
    for q in build_corpus():
        nsd = normalise(ask(q, nsd_server.port))
        knot = normalise(ask(q, knot_server.port))
        dz = normalise(ask(q, dynzone_server.port))
        result.total += 1
        if nsd != knot:
            reason = classify_split(nsd, knot)
            result.splits[reason] += 1
            qtype = dns.rdatatype.to_text(dns.rdatatype.from_text(q.qtype))
            result.split_cases.add((reason, q.qname.lower(), qtype))
            if reason == "unexplained":
                result.unexplained.append((q, nsd, knot))
        if dz not in (nsd, knot):
            result.failures.append((q, nsd, knot, dz))
        if dz[2]:
            result.truncated.append(q)
    return result


def _report(failures: list[tuple[Query, Normal, Normal, Normal]]) -> str:
    out = []
    for q, nsd, knot, dz in failures[:15]:
        out.append(
            f"{q}\n  NSD:     {describe(nsd)}\n  Knot:    {describe(knot)}\n"
            f"  dynzone: {describe(dz)}"
        )
    return "\n".join(out)


def test_corpus_has_at_least_2000_queries() -> None:
    assert len(build_corpus()) >= 2000


def test_dynzone_agrees_with_nsd_or_knot_on_every_udp_query(udp_comparison: Comparison) -> None:
    c = udp_comparison
    print(
        f"\ndifferential: {c.total} queries, {len(c.failures)} where dynzone agrees with"
        f" neither NSD nor Knot; NSD/Knot splits: {dict(c.splits)}"
    )
    assert c.total >= 2000
    assert not c.failures, (
        f"{len(c.failures)} of {c.total} answers agree with neither NSD nor Knot:\n"
        + _report(c.failures)
    )


def test_corpus_exercises_truncation(udp_comparison: Comparison) -> None:
    # The zones hold RRsets too large for 512 bytes; make sure TC really happened.
    assert udp_comparison.truncated


def test_every_nsd_knot_split_is_documented(udp_comparison: Comparison) -> None:
    text = DISAGREEMENTS.read_text()
    documented = set(re.findall(r"^## `([a-z0-9-]+)`", text, re.MULTILINE))
    assert not udp_comparison.unexplained, (
        "NSD and Knot split on queries no rule explains:\n"
        + "\n".join(
            f"{q}\n  NSD:  {describe(n)}\n  Knot: {describe(k)}"
            for q, n, k in udp_comparison.unexplained[:10]
        )
    )
    missing = set(udp_comparison.splits) - documented
    assert not missing, f"splits seen but not explained in {DISAGREEMENTS.name}: {missing}"
    listed = _listed_cases(text)
    unlisted = sorted(udp_comparison.split_cases - listed)
    assert not unlisted, (
        f"{len(unlisted)} NSD/Knot splits are not listed in {DISAGREEMENTS.name} (regenerate"
        f" with python -m tests.e2e.list_splits): {unlisted[:10]}"
    )


def _listed_cases(text: str) -> set[tuple[str, str, str]]:
    """(reason, name, type) for every case listed under "The cases"."""
    listed: set[tuple[str, str, str]] = set()
    reason = None
    for line in text.splitlines():
        heading = re.match(r"^### `([a-z0-9-]+)`", line)
        if heading:
            reason = heading.group(1)
            continue
        case = re.match(r"^- `(\S+) (\S+)`$", line)
        if case and reason:
            listed.add((reason, case.group(1), case.group(2)))
    return listed


def test_dynzone_agrees_over_tcp(
    nsd_server: Server,
    knot_server: Server,
    dynzone_server: Server,
    udp_comparison: Comparison,
) -> None:
    """TCP has no size limit: truncated UDP answers come back whole, the same way."""
    corpus = build_corpus()
    sample = [*udp_comparison.truncated, *corpus[::15]]
    failures = []
    for q in sample:
        nsd = normalise(ask(q, nsd_server.port, tcp=True))
        knot = normalise(ask(q, knot_server.port, tcp=True))
        dz = normalise(ask(q, dynzone_server.port, tcp=True))
        assert not dz[2], f"TC set over TCP for {q}"
        if dz not in (nsd, knot):
            failures.append((q, nsd, knot, dz))
    assert len(sample) > 300
    assert not failures, _report(failures)
