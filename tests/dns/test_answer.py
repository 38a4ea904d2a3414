"""The lookup algorithm, one test per rule (RFC 1034 §4.3.2 and successors)."""

from __future__ import annotations

import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from dynzone.dns.answer import Answer, resolve
from dynzone.engine.catalog import Catalog
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.zonefile import read_zone_text

PARENT = """
$ORIGIN example.com.
$TTL 3600
@        SOA ns1 host 1 7200 900 1209600 300
         NS  ns1
         MX  10 mail
ns1      A   192.0.2.53
mail     A   192.0.2.25
www      A   192.0.2.80
alias    CNAME www
loop1    CNAME loop2
loop2    CNAME loop1
tochild  CNAME host.child.example.com.
toext    CNAME www.example.net.
a.b.ent  TXT "deep"
*.wild   A   192.0.2.100
sub.wild A   192.0.2.101
deleg    NS  ns.deleg
deleg    DS  1 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.deleg A   192.0.2.200
child    NS  ns1
dn       DNAME target
x.target A   192.0.2.110
"""
CHILD = """
$ORIGIN child.example.com.
$TTL 60
@    SOA ns1.example.com. host.example.com. 5 3600 600 86400 30
     NS  ns1.example.com.
host A   198.51.100.7
"""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    zones = []
    for origin, text in (("example.com", PARENT), ("child.example.com", CHILD)):
        name = dns.name.from_text(origin)
        zones.append(ZoneSnapshot(name, read_zone_text(text, name)))
    return Catalog(zones)


def ask(catalog: Catalog, qname: str, qtype: str) -> Answer:
    return resolve(catalog, dns.name.from_text(qname), dns.rdatatype.from_text(qtype))


def types(rrsets: list) -> list[tuple[str, str]]:
    return [(r.name.to_text(), dns.rdatatype.to_text(r.rdtype)) for r in rrsets]


def test_names_outside_every_zone_are_refused_without_aa(catalog: Catalog) -> None:
    ans = ask(catalog, "www.example.net", "A")
    assert ans.rcode == dns.rcode.REFUSED and not ans.aa and not ans.answer


def test_positive_answer_is_authoritative_with_ns_in_authority(catalog: Catalog) -> None:
    ans = ask(catalog, "www.example.com", "A")
    assert ans.aa and ans.rcode == dns.rcode.NOERROR
    assert types(ans.answer) == [("www.example.com.", "A")]
    assert types(ans.authority) == [("example.com.", "NS")]
    assert ("ns1.example.com.", "A") in types(ans.additional)


def test_mx_targets_get_addresses_in_additional(catalog: Catalog) -> None:
    ans = ask(catalog, "example.com", "MX")
    assert ("mail.example.com.", "A") in types(ans.additional)


def test_nxdomain_carries_soa_with_negative_ttl(catalog: Catalog) -> None:
    ans = ask(catalog, "nope.example.com", "A")
    assert ans.rcode == dns.rcode.NXDOMAIN and ans.aa
    (soa,) = ans.authority
    assert soa.rdtype == dns.rdatatype.SOA
    assert soa.ttl == 300  # min(SOA TTL 3600, MINIMUM 300), RFC 2308 §3


def test_nodata_for_existing_name_without_the_type(catalog: Catalog) -> None:
    ans = ask(catalog, "www.example.com", "MX")
    assert ans.rcode == dns.rcode.NOERROR and not ans.answer
    assert types(ans.authority) == [("example.com.", "SOA")]


def test_empty_non_terminal_is_nodata_not_nxdomain(catalog: Catalog) -> None:
    for name in ("ent.example.com", "b.ent.example.com"):
        ans = ask(catalog, name, "A")
        assert ans.rcode == dns.rcode.NOERROR and not ans.answer, name


def test_cname_is_followed_inside_the_zone(catalog: Catalog) -> None:
    ans = ask(catalog, "alias.example.com", "A")
    assert types(ans.answer) == [("alias.example.com.", "CNAME"), ("www.example.com.", "A")]


def test_cname_query_type_returns_the_cname_itself(catalog: Catalog) -> None:
    ans = ask(catalog, "alias.example.com", "CNAME")
    assert types(ans.answer) == [("alias.example.com.", "CNAME")]


def test_cname_into_another_served_zone_is_followed(catalog: Catalog) -> None:
    ans = ask(catalog, "tochild.example.com", "A")
    assert types(ans.answer) == [
        ("tochild.example.com.", "CNAME"),
        ("host.child.example.com.", "A"),
    ]
    assert types(ans.authority) == [("child.example.com.", "NS")]


def test_cname_out_of_our_zones_stops_with_the_cname(catalog: Catalog) -> None:
    ans = ask(catalog, "toext.example.com", "A")
    assert ans.aa and types(ans.answer) == [("toext.example.com.", "CNAME")]
    assert not ans.authority


def test_cname_loop_stops_after_each_name_once(catalog: Catalog) -> None:
    ans = ask(catalog, "loop1.example.com", "A")
    assert types(ans.answer) == [("loop1.example.com.", "CNAME"), ("loop2.example.com.", "CNAME")]
    assert ans.rcode == dns.rcode.NOERROR


def test_wildcard_synthesises_with_the_query_name_as_owner(catalog: Catalog) -> None:
    ans = ask(catalog, "anything.wild.example.com", "A")
    assert types(ans.answer) == [("anything.wild.example.com.", "A")]
    assert ans.answer[0][0].to_text() == "192.0.2.100"


def test_wildcard_does_not_match_names_that_exist(catalog: Catalog) -> None:
    ans = ask(catalog, "sub.wild.example.com", "A")
    assert ans.answer[0][0].to_text() == "192.0.2.101"
    ans = ask(catalog, "sub.wild.example.com", "TXT")
    assert not ans.answer and ans.rcode == dns.rcode.NOERROR


def test_wildcard_does_not_match_below_an_existing_name(catalog: Catalog) -> None:
    # Closest encloser is sub.wild, which has no wildcard child (RFC 4592 §3.3.1).
    ans = ask(catalog, "x.sub.wild.example.com", "A")
    assert ans.rcode == dns.rcode.NXDOMAIN


def test_wildcard_does_not_match_the_empty_non_terminal_above_it(catalog: Catalog) -> None:
    ans = ask(catalog, "wild.example.com", "A")
    assert ans.rcode == dns.rcode.NOERROR and not ans.answer


def test_referral_has_ns_in_authority_glue_in_additional_and_no_aa(catalog: Catalog) -> None:
    for name in ("deleg.example.com", "www.deleg.example.com", "ns.deleg.example.com"):
        ans = ask(catalog, name, "A")
        assert not ans.aa and not ans.answer, name
        assert types(ans.authority) == [("deleg.example.com.", "NS")]
        assert types(ans.additional) == [("ns.deleg.example.com.", "A")]


def test_ds_at_a_cut_is_answered_from_the_parent(catalog: Catalog) -> None:
    ans = ask(catalog, "deleg.example.com", "DS")
    assert ans.aa and types(ans.answer) == [("deleg.example.com.", "DS")]


def test_ds_at_a_served_child_apex_comes_from_the_parent_zone(catalog: Catalog) -> None:
    ans = ask(catalog, "child.example.com", "DS")
    assert ans.aa and not ans.answer
    assert ans.authority[0].name == dns.name.from_text("example.com")


def test_most_specific_zone_answers_nested_names(catalog: Catalog) -> None:
    ans = ask(catalog, "child.example.com", "NS")
    assert ans.aa and ans.answer[0].ttl == 60  # the child's apex NS, not the parent's cut


def test_dname_synthesises_a_cname_and_follows_it(catalog: Catalog) -> None:
    ans = ask(catalog, "x.dn.example.com", "A")
    assert types(ans.answer) == [
        ("dn.example.com.", "DNAME"),
        ("x.dn.example.com.", "CNAME"),
        ("x.target.example.com.", "A"),
    ]
    assert ans.answer[1][0].target == dns.name.from_text("x.target.example.com")


def test_dname_owner_itself_is_not_redirected(catalog: Catalog) -> None:
    ans = ask(catalog, "dn.example.com", "DNAME")
    assert types(ans.answer) == [("dn.example.com.", "DNAME")]


def test_dname_target_too_long_is_yxdomain(catalog: Catalog) -> None:
    # 255 octets as asked; "dn" -> "target" adds 4 more, too long (RFC 6672 §2.2).
    long_name = ".".join(["a" * 62] * 3 + ["b" * 49]) + ".dn.example.com"
    assert len(dns.name.from_text(long_name).to_wire()) == 255
    ans = ask(catalog, long_name, "A")
    assert ans.rcode == dns.rcode.YXDOMAIN
    assert types(ans.answer) == [("dn.example.com.", "DNAME")]


def test_any_returns_one_rrset_soa_at_the_apex(catalog: Catalog) -> None:
    ans = ask(catalog, "example.com", "ANY")
    assert types(ans.answer) == [("example.com.", "SOA")] and not ans.authority
    ans = ask(catalog, "ns1.example.com", "ANY")
    assert types(ans.answer) == [("ns1.example.com.", "A")]
