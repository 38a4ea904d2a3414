"""Print the NSD/Knot split cases as Markdown lists, one section per reason.

    python -m tests.e2e.list_splits

Starts NSD and Knot on the test zones (loopback, free ports), sends the
differential corpus to both, and prints every (query name, type) on which
they differ, grouped by ``classify_split``. The output goes into
tests/e2e/DISAGREEMENTS.md under "The cases"; the differential test checks
that every split it sees is listed there.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path

import dns.rdatatype

from tests.e2e.corpus import ZONES, build_corpus
from tests.e2e.differential import ask, classify_split, normalise
from tests.peers import serving, start_knot, start_nsd


def main() -> None:
    cases: dict[str, set[tuple[str, str]]] = defaultdict(set)
    with tempfile.TemporaryDirectory() as tmp:
        nsd = serving(start_nsd(ZONES, Path(tmp) / "nsd"), ZONES)
        knot = start_knot(ZONES, Path(tmp) / "knot")
        try:
            serving(knot, ZONES)
            for q in build_corpus():
                n, k = normalise(ask(q, nsd.port)), normalise(ask(q, knot.port))
                if n != k:
                    cases[classify_split(n, k)].add((q.qname.lower(), q.qtype))
        finally:
            nsd.stop()
            knot.stop()
    for reason in sorted(cases):
        print(f"### `{reason}` ({len(cases[reason])} name/type pairs)\n")
        for name, qtype in sorted(cases[reason]):
            print(f"- `{name} {dns.rdatatype.to_text(dns.rdatatype.from_text(qtype))}`")
        print()


if __name__ == "__main__":
    main()
