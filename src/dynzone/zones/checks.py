"""Semantic checks of a zone's records, reported as ``file:line: message``.

These are the mistakes that load but answer wrongly: no SOA or several, no NS
at the apex, a CNAME beside other data, records outside the zone, and name
servers below a cut without glue.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.name
import dns.rdatatype

from dynzone.zones.names import key_from, key_within
from dynzone.zones.zonefile import Location, Record

# Types that may sit beside a CNAME (RFC 2181 §10.1, RFC 4035 §2.5).
CNAME_COMPANIONS = {dns.rdatatype.RRSIG, dns.rdatatype.NSEC, dns.rdatatype.NSEC3}
_ADDRESS = (dns.rdatatype.A, dns.rdatatype.AAAA)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a zone, and where."""

    where: Location
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def check_records(origin: dns.name.Name, records: list[Record], file: str) -> list[Problem]:
    """Return every problem found in ``records`` for the zone at ``origin``."""
    problems: list[Problem] = []
    # Records by owner (case folded, as DNS compares names) and type. A name's
    # key and whether it is in the zone are worked out once per name: dnspython
    # hashes and compares names character by character in Python.
    by_key: dict[bytes, dict[int, list[Record]]] = {}
    names: dict[bytes, dns.name.Name] = {}  # key -> the name as first written
    seen: dict[tuple[bytes, ...], bytes | None] = {}  # labels -> key, None if outside
    origin_key = key_from(origin)
    last_name = None
    key: bytes | None = None
    for rec in records:
        if rec.name is not last_name:
            # A file gives a name its records one after another, as one object.
            last_name = rec.name
            labels = rec.name.labels
            if labels in seen:
                key = seen[labels]
            else:
                key = key_from(rec.name)
                if not key_within(key, origin_key):
                    key = None
                seen[labels] = key
        if key is None:
            problems.append(Problem(_at(rec, file), f"{rec.name} is outside the zone {origin}"))
            continue
        types = by_key.get(key)
        if types is None:
            types = by_key[key] = {}
            names[key] = rec.name
        held = types.get(rec.rdata.rdtype)
        if held is None:
            types[rec.rdata.rdtype] = [rec]
        else:
            held.append(rec)
    apex = by_key.get(origin_key, {})
    soas = apex.get(dns.rdatatype.SOA, [])
    if not soas:
        problems.append(Problem(Location(file, 1), f"no SOA record at the zone apex {origin}"))
    elif len(soas) > 1 and len({r.rdata for r in soas}) > 1:
        problems.append(Problem(_at(soas[1], file), "more than one SOA record at the zone apex"))
    if not apex.get(dns.rdatatype.NS):
        problems.append(Problem(Location(file, 1), f"no NS records at the zone apex {origin}"))

    for key, types in by_key.items():
        name = names[key]
        if key != origin_key and dns.rdatatype.SOA in types:
            problems.append(
                Problem(
                    _at(types[dns.rdatatype.SOA][0], file),
                    f"SOA record for {name} is not at the apex",
                )
            )
        cnames = types.get(dns.rdatatype.CNAME)
        if cnames:
            # (an rdata's hash is its canonical wire: made only when needed)
            if len(cnames) > 1 and len({r.rdata for r in cnames}) > 1:
                problems.append(
                    Problem(_at(cnames[1], file), f"more than one CNAME record for {name}")
                )
            for rdtype, recs in types.items():
                if rdtype != dns.rdatatype.CNAME and rdtype not in CNAME_COMPANIONS:
                    other = dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))
                    first = min((_at(r, file) for r in [*cnames, *recs]), key=lambda w: w.line)
                    later = max((_at(r, file) for r in [cnames[0], recs[0]]), key=lambda w: w.line)
                    problems.append(
                        Problem(
                            later,
                            f"CNAME beside other data at {name}: {other} (also line {first.line});"
                            " a name with a CNAME may have no other records",
                        )
                    )
        dnames = types.get(dns.rdatatype.DNAME)
        if dnames and len(dnames) > 1 and len({r.rdata for r in dnames}) > 1:
            problems.append(Problem(_at(dnames[1], file), f"more than one DNAME record for {name}"))

    cuts = {k for k, t in by_key.items() if k != origin_key and dns.rdatatype.NS in t}

    def below_cut(key: bytes) -> bool:
        while key != origin_key and key_within(key, origin_key):
            if key in cuts:
                return True
            key = key[key[0] + 1 :]
        return False

    for key, types in by_key.items():
        for rec in types.get(dns.rdatatype.NS, []):
            target = rec.rdata.target  # type: ignore[attr-defined]
            target_key = key_from(target)
            if not below_cut(target_key):
                continue
            if not any(t in by_key.get(target_key, {}) for t in _ADDRESS):
                problems.append(
                    Problem(
                        _at(rec, file),
                        f"name server {target} for {names[key]} is below a zone cut but has no"
                        " glue (add an A or AAAA record for it)",
                    )
                )
    problems.sort(key=lambda p: (p.where.file, p.where.line))
    return problems


def _at(rec: Record, file: str) -> Location:
    return rec.where if rec.where is not None else Location(file, 0)
