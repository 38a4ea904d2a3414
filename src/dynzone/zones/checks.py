"""Semantic checks of a zone's records, reported as ``file:line: message``.

These are the mistakes that load but answer wrongly: no SOA or several, no NS
at the apex, a CNAME beside other data, records outside the zone, and name
servers below a cut without glue.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.name
import dns.rdata
import dns.rdatatype

from dynzone.zones.names import key_from, key_from_text, key_within, lower_text, name_text
from dynzone.zones.snapshot import StoredRow
from dynzone.zones.trusted_rdata import name_from_wire, rdata_from_wire
from dynzone.zones.zone_rows import Groups, ZoneRows
from dynzone.zones.zonefile import Location, Record

# Types that may sit beside a CNAME (RFC 2181 §10.1, RFC 4035 §2.5).
CNAME_COMPANIONS = {dns.rdatatype.RRSIG, dns.rdatatype.NSEC, dns.rdatatype.NSEC3}
_ADDRESS = (dns.rdatatype.A, dns.rdatatype.AAAA)
_SOA = dns.rdatatype.SOA
_NS = dns.rdatatype.NS
_CNAME = dns.rdatatype.CNAME
_DNAME = dns.rdatatype.DNAME


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a zone, and where."""

    where: Location
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def check_records(origin: dns.name.Name, records: list[Record], file: str) -> list[Problem]:
    """Return every problem found in ``records`` for the zone at ``origin``."""
    return check_rows(origin, ZoneRows.of_records(records, file))


def check_rows(origin: dns.name.Name, zone: ZoneRows) -> list[Problem]:
    """Return every problem found in a zone file's rows for the zone at ``origin``."""
    problems: list[Problem] = []
    rows = zone.rows
    where = zone.where
    # Rows by owner (its lower-cased text, as DNS compares names) and type.
    groups = zone.groups()
    origin_text = lower_text(origin)
    origin_key = key_from(origin)
    by_key: Groups = groups if zone.inside else {}
    if not zone.inside:
        suffix = "" if origin_text == "." else "." + origin_text
        for owner, types in groups.items():
            # (Text without escapes ends at a label boundary; the rest, rare, is
            # compared as keys.)
            if "\\" not in owner:
                inside = owner == origin_text or owner.endswith(suffix)
            else:
                inside = key_within(key_from_text(owner), origin_key)
            if inside:
                by_key[owner] = types
            else:
                for index in sorted(i for indices in types.values() for i in indices):
                    problems.append(
                        Problem(where(index), f"{rows[index][1]} is outside the zone {origin}")
                    )
    # Only owners with an SOA, NS, CNAME or DNAME can have what is checked
    # below (besides the apex): the others need no visit. (In file order, so
    # that problems on one line always come in the same order.)
    found = [owner for owner in zone.notable() if owner in by_key]
    found.sort(key=lambda owner: min(i for indices in by_key[owner].values() for i in indices))
    notable = {owner: by_key[owner] for owner in found}

    def written(types: dict[int, list[int]]) -> str:
        """The owner as first written."""
        return rows[next(iter(types.values()))[0]][1]

    def several(indices: list[int]) -> bool:
        """Whether the rows hold more than one distinct record (a record may be
        written twice; records are compared as dnspython compares them)."""
        if len(indices) < 2:
            return False
        return len({_rdata(rows[i]) for i in indices}) > 1

    apex = by_key.get(origin_text, {})
    soas = apex.get(_SOA, [])
    if not soas:
        problems.append(Problem(Location(zone.file, 1), f"no SOA record at the zone apex {origin}"))
    elif several(soas):
        problems.append(Problem(where(soas[1]), "more than one SOA record at the zone apex"))
    if not apex.get(_NS):
        problems.append(Problem(Location(zone.file, 1), f"no NS records at the zone apex {origin}"))

    for owner, types in notable.items():
        if owner != origin_text and _SOA in types:
            message = f"SOA record for {written(types)} is not at the apex"
            problems.append(Problem(where(types[_SOA][0]), message))
        cnames = types.get(_CNAME)
        if cnames:
            if several(cnames):
                problems.append(
                    Problem(where(cnames[1]), f"more than one CNAME record for {written(types)}")
                )
            for rdtype, indices in types.items():
                if rdtype != _CNAME and rdtype not in CNAME_COMPANIONS:
                    other = dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))
                    first = min((where(i) for i in [*cnames, *indices]), key=lambda w: w.line)
                    later = max((where(i) for i in [cnames[0], indices[0]]), key=lambda w: w.line)
                    problems.append(
                        Problem(
                            later,
                            f"CNAME beside other data at {written(types)}: {other}"
                            f" (also line {first.line}); a name with a CNAME may have no other"
                            " records",
                        )
                    )
        dnames = types.get(_DNAME)
        if dnames and several(dnames):
            problems.append(
                Problem(where(dnames[1]), f"more than one DNAME record for {written(types)}")
            )

    # Name servers below a cut need glue. Keys here are wire forms, lower-cased:
    # an NS record's rdata is its target's wire form.
    cuts = {key_from_text(k) for k, t in notable.items() if k != origin_text and _NS in t}

    def below_cut(key: bytes) -> bool:
        while key != origin_key and key_within(key, origin_key):
            if key in cuts:
                return True
            key = key[key[0] + 1 :]
        return False

    if cuts:
        for types in notable.values():
            for index in types.get(_NS, []):
                wire = rows[index][4]
                if not below_cut(wire.lower()):
                    continue
                target = name_text(name_from_wire(wire))
                if not any(t in by_key.get(target.lower(), {}) for t in _ADDRESS):
                    problems.append(
                        Problem(
                            where(index),
                            f"name server {target} for {written(types)} is below a zone cut but"
                            " has no glue (add an A or AAAA record for it)",
                        )
                    )
    problems.sort(key=lambda p: (p.where.file, p.where.line))
    return problems


def _rdata(row: StoredRow) -> dns.rdata.Rdata:
    wire = row[4]
    return rdata_from_wire(row[2], wire, 0, len(wire), remember=False)
