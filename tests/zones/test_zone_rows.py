"""A zone file's records as store rows: grouped, located, and back as records."""

from __future__ import annotations

import dns.name
import dns.rdata
import dns.rdatatype

from dynzone.zones.zone_rows import ZoneRows
from dynzone.zones.zonefile import Location, Record, read_zone_text

ORIGIN = dns.name.from_text("r.test.")
TEXT = """$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
ns1 A 192.0.2.1
Www A 192.0.2.2
www AAAA 2001:db8::2
other A 192.0.2.9
www A 192.0.2.3
alias CNAME www
sub NS ns.sub
"""


def rows_of(text: str) -> ZoneRows:
    return ZoneRows.of_records(read_zone_text(text, ORIGIN, "r.zone"), "r.zone")


def test_rows_group_by_owner_key_then_type_in_file_order() -> None:
    zone = rows_of(TEXT)
    groups = zone.groups()
    assert list(groups) == [
        "r.test.",
        "ns1.r.test.",
        "www.r.test.",
        "other.r.test.",
        "alias.r.test.",
        "sub.r.test.",
    ]
    www = groups["www.r.test."]
    assert www == {dns.rdatatype.A: [3, 6], dns.rdatatype.AAAA: [4]}
    assert zone.rows[3][:2] == ("www.r.test.", "Www.r.test.")  # the key folds case, not the owner
    assert zone.notable() == {"r.test.", "alias.r.test.", "sub.r.test."}


def test_each_row_knows_the_line_it_was_written_on() -> None:
    zone = rows_of(TEXT)
    assert [zone.where(i).line for i in range(len(zone))] == list(range(2, 11))
    assert zone.where(0) == Location("r.zone", 2)


def test_rows_give_back_the_records_they_were_made_of() -> None:
    records = read_zone_text(TEXT, ORIGIN, "r.zone")
    again = ZoneRows.of_records(records).records()
    assert [(r.name.to_text(), r.ttl, r.rdata) for r in again] == [
        (r.name.to_text(), r.ttl, r.rdata) for r in records
    ]
    assert [r.where for r in again] == [r.where for r in records]


def test_a_record_of_unknown_origin_is_placed_at_line_zero_of_the_file() -> None:
    rdata = dns.rdata.from_text("IN", "A", "192.0.2.1")
    zone = ZoneRows.of_records([Record(ORIGIN, 60, rdata)], "settings")
    assert zone.where(0) == Location("settings", 0)
    assert zone.record(0).rdata == rdata and zone.record(0).name == ORIGIN
