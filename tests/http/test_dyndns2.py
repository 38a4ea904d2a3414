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
