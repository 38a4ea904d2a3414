"""Zone files brought in line with the store: first imports go in batches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import dns.name
import pytest

from dynzone.engine.engine import Engine
from dynzone.engine.settings import ZoneSettings
from dynzone.store import open_store
from dynzone.zones.sync import SyncError, bring_in_line


def write_zones(folder: Path, count: int) -> list[ZoneSettings]:
    folder.mkdir()
    zones = []
    for i in range(count):
        name = f"z{i}.test."
        path = folder / f"{name}zone"
        path.write_text(
            f"$ORIGIN {name}\n$TTL 300\n@ SOA ns1 hostmaster {i + 1} 3600 600 86400 60\n"
            f"@ NS ns1\nns1 A 192.0.2.1\nwww A 10.0.{i >> 8 & 255}.{i & 255}\n"
        )
        zones.append(ZoneSettings(dns.name.from_text(name), file=path))
    return zones


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    store = open_store(tmp_path)
    engine = Engine(store, [], lambda: open_store(tmp_path))
    yield engine
    engine.close()


def count_writes(engine: Engine) -> list[int]:
    """Counts the engine's store write transactions from now on."""
    store: Any = engine.store
    real = store.write
    seen = [0]

    def counted() -> AbstractContextManager[Any]:
        seen[0] += 1
        return real()  # type: ignore[no-any-return]

    store.write = counted
    return seen


def test_many_new_zones_are_imported_in_a_few_transactions(tmp_path: Path, engine: Engine) -> None:
    zones = write_zones(tmp_path / "zones", 1_100)
    writes = count_writes(engine)
    bring_in_line(engine, zones, strict=True)
    assert writes[0] == 3  # 500, 500 and 100 zones
    served = engine.catalog.zones
    assert len(served) == 1_100
    last = engine.snapshot(dns.name.from_text("z1099.test."))
    assert last is not None and last.serial == 1_100 and last.record_count == 4


def test_a_broken_file_among_new_zones_stops_a_start_and_keeps_the_others_out_of_service(
    tmp_path: Path, engine: Engine
) -> None:
    zones = write_zones(tmp_path / "zones", 20)
    assert zones[7].file is not None
    zones[7].file.write_text("$TTL 300\n@ A 10.0.0.1\n")  # no SOA, no NS
    with pytest.raises(SyncError, match=r"z7\.test"):
        bring_in_line(engine, zones, strict=True)
    assert not engine.catalog.zones


def test_on_a_reload_a_broken_new_zone_is_left_out_and_the_others_served(
    tmp_path: Path, engine: Engine
) -> None:
    zones = write_zones(tmp_path / "zones", 20)
    assert zones[7].file is not None
    zones[7].file.write_text("$TTL 300\n@ A 10.0.0.1\n")
    bring_in_line(engine, zones, strict=False)
    assert len(engine.catalog.zones) == 19
    assert engine.snapshot(dns.name.from_text("z7.test.")) is None


def test_a_second_pass_writes_only_the_zone_whose_file_changed(
    tmp_path: Path, engine: Engine
) -> None:
    zones = write_zones(tmp_path / "zones", 30)
    bring_in_line(engine, zones, strict=True)
    writes = count_writes(engine)
    bring_in_line(engine, zones, strict=False)  # nothing changed: nothing written
    assert writes[0] == 0
    assert zones[12].file is not None
    text = zones[12].file.read_text().replace("www A 10.0.0.12", "www A 10.9.9.9")
    zones[12].file.write_text(text)
    bring_in_line(engine, zones, strict=False)
    assert writes[0] == 1
    changed = engine.snapshot(dns.name.from_text("z12.test."))
    assert changed is not None and changed.serial == 14  # the edit bumped it
    www = changed.nodes.get(b"\x03www\x03z12\x04test\x00")
    assert www is not None and www.get(1) is not None
    assert [rd.to_text() for rd in www.get(1)] == ["10.9.9.9"]  # type: ignore[union-attr]
