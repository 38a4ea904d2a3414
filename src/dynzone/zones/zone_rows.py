"""A zone's records as store rows: the form a zone file takes on its way in.

A first import of a big zone used to make a dnspython name, rdata and
``Record`` per record, then the store's rows from those, then read the rows
back to build the snapshot. The zone-file readers now give the rows
themselves (owner key, owner, type, TTL, rdata in wire form) with the line
each was written on; the checks, the store's insert and the new zone's
snapshot all work on them, and dnspython objects are made only for what
needs them (an edit's diff, a tool).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import dns.name
import dns.rdatatype

from dynzone.zones.names import name_text
from dynzone.zones.snapshot import StoredRow
from dynzone.zones.trusted_rdata import rdata_from_wire, stored_name
from dynzone.zones.wire import fresh_wire
from dynzone.zones.zonefile import Location, Record

# Owner key -> type -> the indices of its rows, in file order.
Groups = dict[str, dict[int, list[int]]]

# The types the checks look at (checks.py): the owners with any of them are
# noted while grouping, so that the checks need not visit every owner.
NOTABLE = frozenset({dns.rdatatype.SOA, dns.rdatatype.NS, dns.rdatatype.CNAME, dns.rdatatype.DNAME})


@dataclass(slots=True)
class ZoneRows:
    """Rows in file order and where each was written: line ``lines[i]`` of
    ``file``, or ``places[i]`` when the records came from several files.
    ``inside``: every owner is known to be in the zone (a reader left out the
    others)."""

    rows: list[StoredRow]
    lines: list[int]
    file: str
    places: list[Location] | None = None
    inside: bool = False
    _groups: Groups | None = field(default=None, init=False, repr=False)
    _notable: set[str] | None = field(default=None, init=False, repr=False)

    def __len__(self) -> int:
        return len(self.rows)

    def where(self, index: int) -> Location:
        """Where row ``index`` was written."""
        if self.places is not None:
            return self.places[index]
        return Location(self.file, self.lines[index])

    def groups(self) -> Groups:
        """The rows by owner key and type (worked out once)."""
        if self._groups is None:
            self._groups, self._notable = _group(self.rows)
        return self._groups

    def notable(self) -> set[str]:
        """The owner keys with a record of a ``NOTABLE`` type."""
        if self._notable is None:
            self._groups, self._notable = _group(self.rows)
        return self._notable

    def records(self) -> list[Record]:
        """The rows as dnspython records, each with where it was written."""
        names: dict[str, dns.name.Name] = {}
        out = []
        for index, (_, owner, rdtype, ttl, wire) in enumerate(self.rows):
            name = names.get(owner)
            if name is None:
                name = names[owner] = stored_name(owner)
            rdata = rdata_from_wire(rdtype, wire, 0, len(wire), remember=False)
            out.append(Record(name, ttl, rdata, self.where(index)))
        return out

    def record(self, index: int) -> Record:
        """Row ``index`` as a dnspython record."""
        _, owner, rdtype, ttl, wire = self.rows[index]
        rdata = rdata_from_wire(rdtype, wire, 0, len(wire), remember=False)
        return Record(stored_name(owner), ttl, rdata, self.where(index))

    @classmethod
    def of_records(
        cls, records: Iterable[Record], file: str = "", inside: bool = False
    ) -> ZoneRows:
        """The rows of dnspython ``records`` (where unknown: line 0 of ``file``);
        ``inside``: they are known to be in the zone."""
        rows: list[StoredRow] = []
        places: list[Location] = []
        last: tuple[bytes, ...] = ()
        text = key = ""
        nowhere = Location(file, 0)
        for r in records:
            labels = r.name.labels
            if labels != last:  # a file gives an owner its records one after another
                text = name_text(r.name)
                key = text.lower()
                last = labels
            rows.append((key, text, r.rdata.rdtype, r.ttl, fresh_wire(r.rdata)))
            places.append(r.where or nowhere)
        return cls(rows, [], file, places, inside)


def _group(rows: list[StoredRow]) -> tuple[Groups, set[str]]:
    groups: Groups = {}
    notable: set[str] = set()
    last = ""
    types: dict[int, list[int]] = {}
    for index, row in enumerate(rows):
        owner_key = row[0]
        # A reader gives an owner's run of records one key object: most rows
        # skip the dict lookup.
        if owner_key is not last:
            found = groups.get(owner_key)
            if found is None:
                found = groups[owner_key] = {}
            types = found
            last = owner_key
        held = types.get(row[2])
        if held is None:
            types[row[2]] = [index]
            if row[2] in NOTABLE:
                notable.add(owner_key)
        else:
            held.append(index)
    return groups, notable
