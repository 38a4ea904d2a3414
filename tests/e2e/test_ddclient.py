"""Real ddclient (protocol dyndns2, plain HTTP) updates A and AAAA records through dynzone.

ddclient 3.10 sends one address per request (``myip=``), so a dual-stack host
is updated by an IPv4 run and an IPv6 run; neither may erase the other.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need_peer
from tests.e2e.dyndns_server import ZONE, Dynzone, start

HOST = f"home.{ZONE}"


@pytest.fixture(scope="module")
def dz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dynzone]:
    need_peer("ddclient")
    server = start(tmp_path_factory.mktemp("ddclient"))
    try:
        server.add_user("router", "pw-router", HOST, f"web.{ZONE}")
        yield server
    finally:
        server.stop()


def ddclient(
    dz: Dynzone, workdir: Path, use: str, host: str = HOST, password: str = "pw-router"
) -> str:
    """Run ddclient once in the foreground; returns what it printed."""
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "ddclient.conf"
    conf.write_text(
        f"""\
daemon=0
syslog=no
ssl=no
protocol=dyndns2
server=127.0.0.1:{dz.http_port}
login=router
password='{password}'
{use}
{host}
"""
    )
    conf.chmod(0o600)
    argv = [
        "ddclient", "-foreground", "-daemon=0", "-force", "-verbose", "-noquiet",
        "-file", str(conf), "-cache", str(workdir / "ddclient.cache"),
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    return done.stdout + done.stderr


def test_ddclient_keeps_a_dual_stack_host_through_v4_and_v6_updates(
    dz: Dynzone, tmp_path: Path
) -> None:
    out = ddclient(dz, tmp_path / "v4", "use=ip, ip=192.0.2.33")
    assert "SUCCESS:  updating home.dyn.example.com: good: IP address set to 192.0.2.33" in out, out
    assert dz.query(HOST) == ["192.0.2.33"]

    out = ddclient(dz, tmp_path / "v6", "use=ip, ip=2001:db8::33")
    assert "good: IP address set to 2001:db8::33" in out, out
    assert (dz.query(HOST), dz.query(HOST, "AAAA")) == (["192.0.2.33"], ["2001:db8::33"])

    out = ddclient(dz, tmp_path / "v4b", "use=ip, ip=192.0.2.34")
    assert "good: IP address set to 192.0.2.34" in out, out
    assert (dz.query(HOST), dz.query(HOST, "AAAA")) == (["192.0.2.34"], ["2001:db8::33"])

    out = ddclient(dz, tmp_path / "v6b", "use=ip, ip=2001:db8::34")
    assert (dz.query(HOST), dz.query(HOST, "AAAA")) == (["192.0.2.34"], ["2001:db8::34"])


def test_ddclient_reads_nochg_as_success(dz: Dynzone, tmp_path: Path) -> None:
    ddclient(dz, tmp_path / "a", "use=ip, ip=192.0.2.35")
    out = ddclient(dz, tmp_path / "b", "use=ip, ip=192.0.2.35")
    assert "nochg" in out and "FAILED" not in out, out
    assert dz.query(HOST) == ["192.0.2.35"]


def test_ddclient_discovers_its_address_with_checkip(dz: Dynzone, tmp_path: Path) -> None:
    use = f"use=web, web=http://127.0.0.1:{dz.http_port}/nic/checkip"
    out = ddclient(dz, tmp_path, use, host=f"web.{ZONE}")
    assert "good: IP address set to 127.0.0.1" in out, out
    assert dz.query(f"web.{ZONE}") == ["127.0.0.1"]


def test_ddclient_reports_nohost_and_badauth_as_failures(dz: Dynzone, tmp_path: Path) -> None:
    out = ddclient(dz, tmp_path / "nohost", "use=ip, ip=192.0.2.36", host=f"static.{ZONE}")
    assert f"FAILED:   updating static.{ZONE}: nohost" in out, out
    assert dz.query(f"static.{ZONE}") == ["192.0.2.1"]
    out = ddclient(dz, tmp_path / "badauth", "use=ip, ip=192.0.2.37", password="wrong")
    assert "authorization failed" in out, out
    assert dz.query(HOST) != ["192.0.2.37"]
