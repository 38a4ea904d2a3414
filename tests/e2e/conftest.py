"""Fixtures that run NSD, Knot and dynzone on the differential test zones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need_peer
from tests.e2e.corpus import ZONES
from tests.peers import Server, free_port, start_dynzone, start_knot, start_nsd, wait_for_soa


def write_dynzone_config(workdir: Path, zones: dict[str, Path], port: int) -> Path:
    """A dynzone config serving ``zones`` on 127.0.0.1:port."""
    workdir.mkdir(parents=True, exist_ok=True)
    lines = ['data_dir = "data"', "[dns]", f'listen = ["127.0.0.1:{port}"]']
    for name, path in zones.items():
        lines += ["[[zone]]", f'name = "{name}"', f'file = "{path}"']
    config = workdir / "dynzone.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def run_dynzone(workdir: Path, zones: dict[str, Path]) -> Server:
    port = free_port()
    config = write_dynzone_config(workdir, zones, port)
    server = start_dynzone(config, workdir, port)
    try:
        for zone in zones:
            wait_for_soa(server, zone)
    except Exception:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def dynzone_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = run_dynzone(tmp_path_factory.mktemp("dynzone"), ZONES)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nsd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need_peer("nsd")
    server = start_nsd(ZONES, tmp_path_factory.mktemp("nsd"))
    try:
        for zone in ZONES:
            wait_for_soa(server, zone)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def knot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need_peer("knotd")
    server = start_knot(ZONES, tmp_path_factory.mktemp("knot"))
    try:
        for zone in ZONES:
            wait_for_soa(server, zone)
        yield server
    finally:
        server.stop()
