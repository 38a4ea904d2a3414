"""Fixtures that run NSD, Knot and dynzone on the differential test zones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need_peer
from tests.e2e.corpus import ZONES
from tests.peers import Server, free_port, serving, start_dynzone, start_knot, start_nsd


def write_dynzone_config(
    workdir: Path, zones: dict[str, Path], port: int, ipv6: bool = False, **dns: object
) -> Path:
    """A dynzone config serving ``zones`` on 127.0.0.1:port (and [::1]:port)."""
    workdir.mkdir(parents=True, exist_ok=True)
    listen = [f'"127.0.0.1:{port}"'] + ([f'"[::1]:{port}"'] if ipv6 else [])
    lines = ['data_dir = "data"', "[dns]", f"listen = [{', '.join(listen)}]"]
    lines += [f"{key} = {value}" for key, value in dns.items()]
    for name, path in zones.items():
        lines += ["[[zone]]", f'name = "{name}"', f'file = "{path}"']
    config = workdir / "dynzone.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def run_dynzone(workdir: Path, zones: dict[str, Path], ipv6: bool = False, **dns: object) -> Server:
    """Start dynzone on a free port serving ``zones``; wait until it answers."""
    port = free_port()
    config = write_dynzone_config(workdir, zones, port, ipv6, **dns)
    return serving(start_dynzone(config, workdir, port), zones)


@pytest.fixture(scope="session")
def dynzone_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = run_dynzone(tmp_path_factory.mktemp("dynzone"), ZONES)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nsd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need_peer("nsd")
    server = serving(start_nsd(ZONES, tmp_path_factory.mktemp("nsd")), ZONES)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def knot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need_peer("knotd")
    server = serving(start_knot(ZONES, tmp_path_factory.mktemp("knot")), ZONES)
    yield server
    server.stop()
