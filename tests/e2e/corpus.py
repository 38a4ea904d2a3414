"""Generate the differential query corpus from the test zones.

Every owner × every type present, absent types, names that do not exist under
every node, names below cuts, letter-case variants, with and without EDNS and
with the DO bit. Deterministic (fixed seed), so a failure can be replayed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import dns.name
import dns.rdatatype
import dns.zone

ZONES_DIR = Path(__file__).parent / "zones"
ZONES = {
    "example.com": ZONES_DIR / "example.com.zone",
    "dyn.example.com": ZONES_DIR / "dyn.example.com.zone",
    "example.org": ZONES_DIR / "example.org.zone",
}

# Types asked at every name whether present or not.
PROBE_TYPES = [
    "A",
    "AAAA",
    "MX",
    "TXT",
    "NS",
    "SOA",
    "CNAME",
    "DS",
    "SRV",
    "CAA",
    "PTR",
    "DNAME",
    "HTTPS",
    "ANY",
]
EDNS_MODES = ("none", "edns", "do")


@dataclass(frozen=True)
class Query:
    qname: str
    qtype: str
    edns: str  # one of EDNS_MODES

    def __str__(self) -> str:
        return f"{self.qname} {self.qtype} ({self.edns})"


def _names() -> tuple[set[dns.name.Name], set[dns.name.Name]]:
    """All owner names (with empty non-terminals) and all delegation points."""
    owners: set[dns.name.Name] = set()
    cuts: set[dns.name.Name] = set()
    for origin, path in ZONES.items():
        zone = dns.zone.from_file(str(path), origin=origin, relativize=False)
        apex = dns.name.from_text(origin)
        for name, node in zone.nodes.items():
            owners.add(name)
            parent = name
            while parent != apex:
                parent = parent.parent()
                owners.add(parent)
            if name != apex and node.get_rdataset(1, dns.rdatatype.NS) is not None:
                cuts.add(name)
    return owners, cuts


def _mixed_case(name: str, rng: random.Random) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c for c in name)


def build_corpus(seed: int = 2136) -> list[Query]:
    rng = random.Random(seed)
    owners, cuts = _names()
    names: list[str] = []
    for owner in sorted(owners):
        text = owner.to_text()
        names.append(text)
        if "*" not in text:
            names.append("nx-" + str(rng.randrange(1000)) + "." + text)  # does not exist below
            names.append("a.b." + text)  # two labels below
    for cut in sorted(cuts):
        names += ["x." + cut.to_text(), "deep.x." + cut.to_text()]
    names += ["www.example.net.", "example.net.", "com.", "."]  # not served: REFUSED
    queries: list[Query] = []
    for i, name in enumerate(names):
        for j, qtype in enumerate(PROBE_TYPES):
            # Full EDNS cross product for owners; one rotating mode for the rest keeps
            # the corpus large but fast.
            if name.startswith(("nx-", "a.b.", "deep.")):
                modes: tuple[str, ...] = (EDNS_MODES[(i + j) % 3],)
            else:
                modes = EDNS_MODES
            for mode in modes:
                qname = _mixed_case(name, rng) if rng.random() < 0.25 else name
                queries.append(Query(qname, qtype, mode))
    return queries
