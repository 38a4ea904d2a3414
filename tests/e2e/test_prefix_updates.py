"""IPv6 prefix updates: one dyndns2 request moves every suffix host's AAAA to the
new prefix in one change, their A records staying; with curl, and with inadyn
configured as the README's OpenWrt snippet says."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need_peer
from tests.e2e.dyndns_server import ZONE, Dynzone, start

README = Path(__file__).resolve().parents[2] / "README.md"
SUFFIXES = {"nas": "::1:2:3:4", "tv": "::21a:2bff:fe3c:4d5e", "cam": "::c"}
V4 = {"nas": "192.0.2.21", "tv": "192.0.2.22", "cam": "192.0.2.23"}


@pytest.fixture(scope="module")
def dz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dynzone]:
    server = start(tmp_path_factory.mktemp("prefix"))
    try:
        hosts = [f"router.{ZONE}"]
        hosts += [f"{host}.{ZONE} ipv6-suffix={suffix}" for host, suffix in SUFFIXES.items()]
        server.add_user("home", "pw-home", *hosts)
        listed = server.cli("user", "list")
        assert f"nas.{ZONE}. ipv6-suffix=::1:2:3:4" in listed.stdout, listed.stdout
        # Each device's own IPv4 address, set the usual way.
        for host, address in V4.items():
            assert (
                server.curl(f"hostname={host}.{ZONE}&myip={address}", "home", "pw-home")[0] == 200
            )
        yield server
    finally:
        server.stop()


def aaaa_of_all(dz: Dynzone) -> dict[str, list[str]]:
    return {host: dz.query(f"{host}.{ZONE}", "AAAA") for host in SUFFIXES}


def a_of_all(dz: Dynzone) -> dict[str, list[str]]:
    return {host: dz.query(f"{host}.{ZONE}") for host in SUFFIXES}


def test_one_request_moves_every_suffix_host_in_one_change(dz: Dynzone) -> None:
    before = dz.soa_serial()
    status, body = dz.curl(
        f"hostname=router.{ZONE}&myip=198.51.100.7&myipv6prefix=2001:db8:1:2::/64",
        "home",
        "pw-home",
    )
    assert (status, body) == (200, "good 198.51.100.7")
    assert aaaa_of_all(dz) == {
        "nas": ["2001:db8:1:2:1:2:3:4"],
        "tv": ["2001:db8:1:2:21a:2bff:fe3c:4d5e"],
        "cam": ["2001:db8:1:2::c"],
    }
    assert a_of_all(dz) == {host: [address] for host, address in V4.items()}
    assert dz.query(f"router.{ZONE}") == ["198.51.100.7"]
    assert dz.soa_serial() == before + 1  # one change for the router and the three hosts
    journal = dz.cli("zone", "journal", ZONE, "--last", "1").stdout
    assert journal.count("IN AAAA") == 3 and "by user:home" in journal

    # The FRITZ!Box's form, and deSEC's, move them again.
    assert (
        dz.curl(f"hostname=router.{ZONE}&ip6lanprefix=2001:db8:3:4::/64", "home", "pw-home")[1]
        == "nochg"
    )
    assert aaaa_of_all(dz)["nas"] == ["2001:db8:3:4:1:2:3:4"]
    assert dz.curl(f"hostname=nas.{ZONE}&ipv6=2001:db8:5:6::/64", "home", "pw-home")[1] == (
        "good 2001:db8:5:6:1:2:3:4"
    )
    assert aaaa_of_all(dz)["cam"] == ["2001:db8:5:6::c"]
    assert a_of_all(dz) == {host: [address] for host, address in V4.items()}


def test_a_bad_prefix_is_badip_and_changes_nothing(dz: Dynzone) -> None:
    before = aaaa_of_all(dz)
    status, body = dz.curl(f"hostname=router.{ZONE}&myipv6prefix=nonsense", "home", "pw-home")
    assert (status, body) == (400, "badip")
    assert aaaa_of_all(dz) == before


def readme_inadyn_block() -> str:
    text = README.read_text()
    found = re.search(r"<!-- prefix-inadyn -->\n```\n(.*?)```", text, re.S)
    assert found, "README lost the OpenWrt inadyn snippet"
    return found.group(1)


def test_inadyn_configured_as_the_readme_says_moves_the_prefix(dz: Dynzone, tmp_path: Path) -> None:
    binary = need_peer("inadyn")
    conf = readme_inadyn_block()
    # What differs on a test machine: where dynzone listens, the password, no
    # TLS, and the LAN address inadyn's checkip-command would print.
    for old, new in (
        ("ssl = true", "ssl = false"),
        ("ddns-server = dns.example.com", f"ddns-server = 127.0.0.1:{dz.http_port}"),
        ("password = PASSWORD", "password = pw-home"),
        ('"/usr/local/bin/lan-ipv6"', '"/bin/echo 2001:db8:77:88::1"'),
        ("router.dyn.example.com", f"router.{ZONE}"),
    ):
        assert old in conf, old
        conf = conf.replace(old, new)
    (tmp_path / "inadyn.conf").write_text(conf)
    argv = [
        binary, "--once", "--foreground", "-l", "debug", "-f", str(tmp_path / "inadyn.conf"),
        "--cache-dir", str(tmp_path / "cache"), "-P", str(tmp_path / "inadyn.pid"),
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    out = done.stdout + done.stderr
    assert f"Successful alias table update for router.{ZONE}" in out, out
    assert aaaa_of_all(dz) == {
        "nas": ["2001:db8:77:88:1:2:3:4"],
        "tv": ["2001:db8:77:88:21a:2bff:fe3c:4d5e"],
        "cam": ["2001:db8:77:88::c"],
    }
    assert a_of_all(dz) == {host: [address] for host, address in V4.items()}
