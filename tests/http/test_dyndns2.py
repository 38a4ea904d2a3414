"""dyndns2 host lists are atomic, and a list refused inside the transaction says
which name was refused (``nohost``) and that nothing else changed (``dnserr``)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import dns.name
import dns.rdata
import dns.rdatatype
import pytest

from dynzone.engine.changeset import ChangeRejected, ChangeSet, SetRRset, ZoneChange
from dynzone.engine.engine import Engine
from dynzone.engine.settings import ZoneSettings
from dynzone.http import dyndns2
from dynzone.policy import Grant, Identity
from dynzone.store import open_store
from dynzone.zones.sync import bring_in_line

ZONE = dns.name.from_text("d.test.")


def test_a_list_refused_in_the_transaction_names_the_refused_host(tmp_path: Path) -> None:
    zones = (ZoneSettings(ZONE, ns=(dns.name.from_text("ns1.d.test."),), email="h@d.test"),)
    engine = Engine(open_store(tmp_path), zones, lambda: open_store(tmp_path))
    try:
        bring_in_line(engine, zones, strict=True)
        who = Identity("user:u", (Grant("*.d.test."),))
        params = {"hostname": "one.d.test,two.d.test,three.d.test", "myip": "192.0.2.5"}
        plan = dyndns2.plan_update(params, who, engine.catalog, ipaddress.ip_address("192.0.2.5"))
        assert isinstance(plan, dyndns2.Plan) and not plan.refused
        # Between the check and the commit, two.d.test becomes an alias.
        two = dns.name.from_text("two.d.test.")
        cname = (dns.rdata.from_text("IN", "CNAME", "elsewhere.example."),)
        engine.commit_now(
            ChangeSet(
                "t", "-", (ZoneChange(ZONE, (SetRRset(two, dns.rdatatype.CNAME, 60, cname),)),)
            )
        )
        changeset = dyndns2.build_changeset(plan, engine.catalog, lambda _: 60, who, "192.0.2.5")
        with pytest.raises(ChangeRejected) as refused:
            engine.commit_now(changeset)
        assert refused.value.name == two
        assert dyndns2.rejected_lines(plan, refused.value.name) == ["dnserr", "nohost", "dnserr"]
        stored = engine.store.load_zone(ZONE)
        assert stored is not None
        assert not [r for r in stored.records if r.name == dns.name.from_text("one.d.test.")]
    finally:
        engine.close()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"myipv6prefix": "2001:db8:1:2::/64"}, "2001:db8:1:2::/64"),
        ({"ip6lanprefix": "2001:db8:1:2::/56"}, "2001:db8:1::/56"),  # host bits dropped
        ({"ipv6": "2001:db8:1:2::/64"}, "2001:db8:1:2::/64"),  # deSEC
        ({"myipv6prefix": "2001:db8:1:2::"}, "2001:db8:1:2::/64"),  # no length: a /64
        ({"ipv6": "2001:db8::5"}, None),  # deSEC's plain address, not a prefix
        ({"myip": "192.0.2.1"}, None),
    ],
)
def test_prefixes_are_read_from_each_clients_parameter(
    params: dict[str, str], expected: str | None
) -> None:
    prefix = dyndns2.parse_prefix(params)
    assert (str(prefix) if prefix else None) == expected


@pytest.mark.parametrize("text", ["nonsense", "192.0.2.0/24", "2001:db8::/0", "::ffff:0:0/96"])
def test_a_bad_prefix_is_badip(text: str) -> None:
    with pytest.raises(dyndns2.BadAddress):
        dyndns2.parse_prefix({"myipv6prefix": text})


def test_prefix_and_suffix_make_the_address() -> None:
    prefix = ipaddress.IPv6Network("2001:db8:1:2::/64")
    suffix = ipaddress.IPv6Address("::1:2:3:4")
    assert str(dyndns2.with_suffix(prefix, suffix)) == "2001:db8:1:2:1:2:3:4"
    wide = ipaddress.IPv6Network("2001:db8:aa00::/40")
    # Bits of the suffix inside the prefix are the prefix's; the rest are the suffix's.
    suffix = ipaddress.IPv6Address("ffff:ffff:ffff:55::1")
    assert str(dyndns2.with_suffix(wide, suffix)) == "2001:db8:aaff:55::1"


def _suffix_engine(tmp_path: Path) -> Engine:
    zones = (ZoneSettings(ZONE, ns=(dns.name.from_text("ns1.d.test."),), email="h@d.test"),)
    engine = Engine(open_store(tmp_path), zones, lambda: open_store(tmp_path))
    bring_in_line(engine, zones, strict=True)
    return engine


SUFFIXED = Identity(
    "user:r",
    (
        Grant("router.d.test."),
        Grant("nas.d.test.", ipv6_suffix="::1:2:3:4"),
        Grant("tv.d.test.", ipv6_suffix="::a"),
    ),
)


def test_a_prefix_update_sets_every_suffix_host_in_one_change(tmp_path: Path) -> None:
    engine = _suffix_engine(tmp_path)
    try:
        params = {"hostname": "router.d.test", "myip": "192.0.2.9",
                  "myipv6prefix": "2001:db8:5:6::/64"}  # fmt: skip
        client = ipaddress.ip_address("192.0.2.9")
        plan = dyndns2.plan_update(params, SUFFIXED, engine.catalog, client)
        assert isinstance(plan, dyndns2.Plan) and not plan.refused
        assert plan.v6 is None  # a prefix alone does not stand for the router's own address
        changeset = dyndns2.build_changeset(plan, engine.catalog, lambda _: 60, SUFFIXED, "-")
        assert len(changeset.zones) == 1
        change = changeset.zones[0]
        assert isinstance(change, ZoneChange)
        got = {
            (op.name.to_text(), dns.rdatatype.to_text(op.rdtype), op.rdatas[0].to_text())
            for op in change.ops
            if isinstance(op, SetRRset)
        }
        assert got == {
            ("router.d.test.", "A", "192.0.2.9"),
            ("nas.d.test.", "AAAA", "2001:db8:5:6:1:2:3:4"),
            ("tv.d.test.", "AAAA", "2001:db8:5:6::a"),
        }
        outcomes = engine.commit_now(changeset)
        assert dyndns2.reply_lines(plan, outcomes) == ["good 192.0.2.9"]
    finally:
        engine.close()


def test_a_named_suffix_host_gets_its_own_address_in_the_reply(tmp_path: Path) -> None:
    engine = _suffix_engine(tmp_path)
    try:
        params = {"hostname": "nas.d.test", "ip6lanprefix": "2001:db8:7:8::/64"}
        plan = dyndns2.plan_update(params, SUFFIXED, engine.catalog, ipaddress.ip_address("::1"))
        assert isinstance(plan, dyndns2.Plan)
        outcomes = engine.commit_now(
            dyndns2.build_changeset(plan, engine.catalog, lambda _: 60, SUFFIXED, "-")
        )
        assert dyndns2.reply_lines(plan, outcomes) == ["good 2001:db8:7:8:1:2:3:4"]
    finally:
        engine.close()


def test_a_suffix_host_outside_the_served_zones_refuses_the_whole_request(
    tmp_path: Path,
) -> None:
    engine = _suffix_engine(tmp_path)
    try:
        who = Identity(
            "user:r",
            (Grant("router.d.test."), Grant("nas.elsewhere.test.", ipv6_suffix="::1")),
        )
        params = {"hostname": "router.d.test", "myipv6prefix": "2001:db8:5:6::/64"}
        plan = dyndns2.plan_update(params, who, engine.catalog, ipaddress.ip_address("::1"))
        assert isinstance(plan, dyndns2.Plan) and plan.refused
        assert plan.suffix_refusal == "nas.elsewhere.test.: nohost"
        assert dyndns2.refusal_lines(plan) == ["dnserr"]
    finally:
        engine.close()
