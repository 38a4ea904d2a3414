"""The UPDATE door against a real engine: grants decide per name and type, also for
the changes that reach types the message does not name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dns.name
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.update
import pytest

from dynzone.engine.changeset import AddRecord, ChangeSet, ZoneChange
from dynzone.engine.engine import Engine
from dynzone.engine.settings import ZoneSettings
from dynzone.policy import Grant, Identity
from dynzone.store import open_store
from dynzone.update.door import UpdateDoor
from dynzone.update.message import read
from dynzone.update.sections import UpdateError
from dynzone.zones.sync import bring_in_line

ZONE = dns.name.from_text("d.test.")
HOST = dns.name.from_text("h.d.test.")
# May change h.d.test's addresses, nothing else there.
KEY = Identity("key:addr", (Grant("h.d.test.", frozenset({dns.rdatatype.A})),))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    zones = (ZoneSettings(ZONE, ns=(dns.name.from_text("ns1.d.test."),), email="h@d.test"),)
    engine = Engine(open_store(tmp_path), zones, lambda: open_store(tmp_path))
    bring_in_line(engine, zones, strict=True)
    # h.d.test holds an address and a TXT record the key may not touch.
    txt = dns.rdata.from_text("IN", "TXT", '"keep me"')
    a = dns.rdata.from_text("IN", "A", "192.0.2.1")
    ops = (AddRecord(HOST, 60, a), AddRecord(HOST, 60, txt))
    engine.commit_now(ChangeSet("admin", "-", (ZoneChange(ZONE, ops),)))
    yield engine
    engine.close()


def commit(engine: Engine, update: dns.update.UpdateMessage) -> None:
    message = read(update.to_wire())
    assert message is not None
    changeset = UpdateDoor(engine).prepare(message, KEY, "192.0.2.9")
    engine.commit_now(changeset)


def held(engine: Engine) -> set[str]:
    found = engine.store.load_zone(ZONE)
    assert found is not None
    return {f"{r.rdata.rdtype.name} {r.rdata}" for r in found.records if r.name == HOST}


def test_a_change_within_the_grant_commits(engine: Engine) -> None:
    update = dns.update.UpdateMessage(ZONE)
    update.replace("h", 60, "A", "192.0.2.2")
    commit(engine, update)
    assert held(engine) == {"A 192.0.2.2", 'TXT "keep me"'}


def test_deleting_every_rrset_at_a_name_is_refused_for_a_type_outside_the_grant(
    engine: Engine,
) -> None:
    update = dns.update.UpdateMessage(ZONE)
    update.delete("h")  # every RRset at h.d.test, the TXT the key may not touch included
    with pytest.raises(UpdateError) as refused:
        commit(engine, update)
    assert refused.value.rcode == dns.rcode.REFUSED
    assert "TXT" in str(refused.value)
    assert held(engine) == {"A 192.0.2.1", 'TXT "keep me"'}


def test_a_type_outside_the_grant_is_refused_before_anything_is_read(engine: Engine) -> None:
    update = dns.update.UpdateMessage(ZONE)
    update.add("h", 60, "TXT", '"mine now"')
    message = read(update.to_wire())
    assert message is not None
    with pytest.raises(UpdateError) as refused:
        UpdateDoor(engine).prepare(message, KEY, "192.0.2.9")
    assert refused.value.rcode == dns.rcode.REFUSED
