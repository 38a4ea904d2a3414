"""Real inadyn (a custom provider pointed at dynzone) updates A and AAAA records.

inadyn sends the two families as separate requests, the case where dyndnsd
let one erase the other. Its custom provider matches reply substrings, so the
config lists ``ddns-response = { good, nochg }``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need_peer
from tests.e2e.dyndns_server import ZONE, Dynzone, start

HOST = f"router.{ZONE}"


@pytest.fixture(scope="module")
def dz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dynzone]:
    need_peer("inadyn")
    server = start(tmp_path_factory.mktemp("inadyn"))
    try:
        server.add_user("router", "pw-router", HOST)
        yield server
    finally:
        server.stop()


def inadyn(
    dz: Dynzone, workdir: Path, address: str, host: str = HOST, password: str = "pw-router"
) -> str:
    """Run inadyn once with ``address`` as its discovered address; returns its log."""
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "inadyn.conf"
    conf.write_text(
        f"""\
allow-ipv6 = true
custom dynzone {{
    ssl = false
    username = router
    password = {password}
    ddns-server = 127.0.0.1:{dz.http_port}
    ddns-path = "/nic/update?hostname=%h&myip=%i"
    ddns-response = {{ good, nochg }}
    checkip-command = "/bin/echo {address}"
    hostname = {host}
}}
"""
    )
    argv = [
        "inadyn", "--once", "--foreground", "-l", "debug", "-f", str(conf),
        "--cache-dir", str(workdir / "cache"), "-P", str(workdir / "inadyn.pid"),
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    return done.stdout + done.stderr


def test_inadyn_keeps_both_families_across_separate_requests(dz: Dynzone, tmp_path: Path) -> None:
    out = inadyn(dz, tmp_path / "v4", "192.0.2.44")
    assert f"Successful alias table update for {HOST}" in out, out
    assert dz.query(HOST) == ["192.0.2.44"]

    out = inadyn(dz, tmp_path / "v6", "2001:db8::44")
    assert f"Successful alias table update for {HOST}" in out, out
    assert (dz.query(HOST), dz.query(HOST, "AAAA")) == (["192.0.2.44"], ["2001:db8::44"])

    inadyn(dz, tmp_path / "v4b", "192.0.2.45")
    assert (dz.query(HOST), dz.query(HOST, "AAAA")) == (["192.0.2.45"], ["2001:db8::44"])
    inadyn(dz, tmp_path / "v6b", "2001:db8::45")
    assert (dz.query(HOST), dz.query(HOST, "AAAA")) == (["192.0.2.45"], ["2001:db8::45"])


def test_inadyn_reads_nochg_as_success(dz: Dynzone, tmp_path: Path) -> None:
    inadyn(dz, tmp_path / "a", "192.0.2.46")
    out = inadyn(dz, tmp_path / "b", "192.0.2.46")
    assert "nochg" in out and f"Successful alias table update for {HOST}" in out, out


def test_inadyn_reads_nohost_and_badauth_as_failures(dz: Dynzone, tmp_path: Path) -> None:
    out = inadyn(dz, tmp_path / "nohost", "192.0.2.47", host=f"static.{ZONE}")
    assert "nohost" in out and "Successful alias table update" not in out, out
    assert dz.query(f"static.{ZONE}") == ["192.0.2.1"]
    out = inadyn(dz, tmp_path / "badauth", "192.0.2.48", password="wrong")
    assert "Successful alias table update" not in out, out
    assert dz.query(HOST) != ["192.0.2.48"]
