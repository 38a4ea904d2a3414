"""Zone-file checks report each problem with its file and line."""

from __future__ import annotations

from pathlib import Path

import dns.name
import pytest

from dynzone.zones.checks import check_records
from dynzone.zones.loader import ZoneLoadError, load_rows, read_and_check
from dynzone.zones.snapshot import ZoneSnapshot, key_of
from dynzone.zones.zonefile import Record, read_zone_text

ORIGIN = dns.name.from_text("example.com")


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "example.com.zone"
    path.write_text(text)
    return [str(p) for p in read_and_check(ORIGIN, path)[1]]


GOOD_HEAD = "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n"


def test_a_good_zone_has_no_problems(tmp_path: Path) -> None:
    assert problems(tmp_path, GOOD_HEAD + "www A 192.0.2.2\n") == []


def test_syntax_error_reports_file_and_line(tmp_path: Path) -> None:
    (p,) = problems(tmp_path, GOOD_HEAD + "www A 192.0.2.300\n")
    assert p.startswith(f"{tmp_path}/example.com.zone:5: ")


def test_missing_soa_is_reported(tmp_path: Path) -> None:
    assert any("no SOA" in p for p in problems(tmp_path, "$TTL 300\n@ NS ns1\nns1 A 192.0.2.1\n"))


def test_two_soas_are_reported_at_the_second(tmp_path: Path) -> None:
    (p,) = problems(tmp_path, GOOD_HEAD + "@ SOA ns2 host 2 2 3 4 5\n")
    assert ":5: more than one SOA" in p


def test_soa_below_the_apex_is_reported(tmp_path: Path) -> None:
    (p,) = problems(tmp_path, GOOD_HEAD + "sub SOA ns1 host 1 2 3 4 5\n")
    assert ":5: SOA record for sub.example.com. is not at the apex" in p


def test_missing_apex_ns_is_reported(tmp_path: Path) -> None:
    found = problems(tmp_path, "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n")
    assert any("no NS records" in p for p in found)


def test_cname_beside_other_data_is_reported_with_both_lines(tmp_path: Path) -> None:
    (p,) = problems(tmp_path, GOOD_HEAD + "www A 192.0.2.2\nwww CNAME other\n")
    assert ":6: CNAME beside other data at www.example.com.: A (also line 5)" in p


def test_records_outside_the_zone_are_reported(tmp_path: Path) -> None:
    (p,) = problems(tmp_path, GOOD_HEAD + "www.example.net. A 192.0.2.2\n")
    assert ":5: www.example.net. is outside the zone example.com." in p


def test_name_server_below_a_cut_without_glue_is_reported(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD_HEAD + "sub NS ns.sub\nsub NS ns.example.net.\n")
    assert len(found) == 1 and ":5: name server ns.sub.example.com." in found[0]
    assert problems(tmp_path, GOOD_HEAD + "sub NS ns.sub\nns.sub A 192.0.2.9\n") == []


def test_parenthesised_record_reports_its_first_line(tmp_path: Path) -> None:
    text = GOOD_HEAD + "www A 192.0.2.2\nwww MX (\n  10\n  mail )\n"
    assert problems(tmp_path, text) == []
    (p,) = problems(tmp_path, GOOD_HEAD + "x A 192.0.2.2\nx CNAME (\n  other )\n")
    assert ":6: CNAME beside other data" in p


def test_include_is_relative_to_the_zone_file(tmp_path: Path) -> None:
    (tmp_path / "hosts.inc").write_text("www A 192.0.2.2\nbad A 999.1.1.1\n")
    (p,) = problems(tmp_path, GOOD_HEAD + "$INCLUDE hosts.inc\n")
    assert p.startswith(f"{tmp_path}/hosts.inc:2: ")


def test_generate_and_directives_load(tmp_path: Path) -> None:
    path = tmp_path / "example.com.zone"
    path.write_text(GOOD_HEAD + '$GENERATE 1-5 host$ A 192.0.2.$\n$ORIGIN sub\nx TXT "a" "b"\n')
    zone = ZoneSnapshot(ORIGIN, load_rows(ORIGIN, path)[0].records())
    assert key_of(dns.name.from_text("host3.example.com")) in zone.nodes
    assert key_of(dns.name.from_text("x.sub.example.com")) in zone.nodes


def test_load_rows_refuses_a_zone_with_problems(tmp_path: Path) -> None:
    path = tmp_path / "example.com.zone"
    path.write_text(GOOD_HEAD + "www A 192.0.2.2\nwww CNAME other\n")
    with pytest.raises(ZoneLoadError, match=":6: CNAME beside other data"):
        load_rows(ORIGIN, path)


def test_a_file_read_by_dnspython_is_checked_alike(tmp_path: Path) -> None:
    # An escape sends the file to dnspython's reader (its rows are grouped
    # after reading, not as they are read): the same problems, on the same lines.
    text = GOOD_HEAD + 'x TXT "a\\"b"\nsub NS ns.sub\nwww A 192.0.2.2\nwww CNAME other\n'
    assert problems(tmp_path, text) == [
        f"{tmp_path}/example.com.zone:6: name server ns.sub.example.com. for sub.example.com."
        " is below a zone cut but has no glue (add an A or AAAA record for it)",
        f"{tmp_path}/example.com.zone:8: CNAME beside other data at www.example.com.: A"
        " (also line 7); a name with a CNAME may have no other records",
    ]


def test_records_from_elsewhere_are_checked_for_their_zone_too() -> None:
    records = read_zone_text(GOOD_HEAD, ORIGIN, "head.zone")
    stray = Record(dns.name.from_text("www.example.net."), 60, records[-1].rdata)
    (p,) = check_records(ORIGIN, [*records, stray], "head.zone")
    assert str(p) == "head.zone:0: www.example.net. is outside the zone example.com."
