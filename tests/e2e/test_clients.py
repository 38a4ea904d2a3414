"""dig and kdig as real clients, over UDP and TCP; and the no-configuration front door."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need_peer
from tests.peers import Server


def run(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def dig(server: Server, *args: str) -> str:
    return run([need_peer("dig"), f"@{server.host}", "-p", str(server.port), "+norec", *args])


def kdig(server: Server, *args: str) -> str:
    return run([need_peer("kdig"), f"@{server.host}", "-p", str(server.port), "+norec", *args])


@pytest.mark.parametrize("transport", ["+notcp", "+tcp"])
def test_dig_gets_an_authoritative_answer(dynzone_server: Server, transport: str) -> None:
    out = dig(dynzone_server, transport, "www.example.com", "A")
    assert "status: NOERROR" in out and " aa" in out.split("flags:")[1].split(";")[0]
    assert "192.0.2.80" in out
    assert ("(TCP)" in out) == (transport == "+tcp")


def test_dig_keeps_the_letter_case_of_the_question(dynzone_server: Server) -> None:
    out = dig(dynzone_server, "WwW.ExAmPlE.cOm", "A")
    assert ";WwW.ExAmPlE.cOm.\t\tIN\tA" in out


def test_dig_retries_a_truncated_answer_over_tcp(dynzone_server: Server) -> None:
    out = dig(dynzone_server, "+noedns", "big.example.com", "TXT")
    assert "Truncated, retrying in TCP mode" in out
    assert out.count("\tTXT\t") == 8


def test_dig_short_answers_for_cname_wildcard_and_nxdomain(dynzone_server: Server) -> None:
    assert dig(dynzone_server, "+short", "alias.example.com").split() == [
        "www.example.com.",
        "192.0.2.80",
    ]
    assert dig(dynzone_server, "+short", "foo.wild.example.com", "TXT").split() == ['"wildcard"']
    assert "status: NXDOMAIN" in dig(dynzone_server, "nothere.example.com")
    assert "status: REFUSED" in dig(dynzone_server, "www.example.net")


@pytest.mark.parametrize("transport", ["+notcp", "+tcp"])
def test_kdig_gets_an_authoritative_answer(dynzone_server: Server, transport: str) -> None:
    out = kdig(dynzone_server, transport, "www.example.com", "AAAA")
    assert "status: NOERROR" in out and "2001:db8::80" in out
    assert ("TCP" in out) == (transport == "+tcp")


def test_kdig_edns_options_take_the_slow_path_and_still_answer(dynzone_server: Server) -> None:
    out = kdig(dynzone_server, "+nsid", "+cookie", "+bufsize=4096", "x.dn.example.com", "A")
    assert "status: NOERROR" in out and "192.0.2.110" in out
    assert "Version: 0;" in out and "UDP size: 1232 B" in out


def test_dig_edns_version_1_gets_badvers(dynzone_server: Server) -> None:
    out = dig(dynzone_server, "+edns=1", "+noednsneg", "www.example.com")
    assert "status: BADVERS" in out


def _port_free(port: int) -> bool:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def test_serve_with_no_arguments_serves_the_demo_zone_on_5353(tmp_path: Path) -> None:
    """The README's front door, exactly: `dynzone serve`, then the printed curl and dig lines."""
    for port in (5353, 8053):
        if not _port_free(port):
            message = f"127.0.0.1:{port} is busy; the default server cannot be tested here"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
    need_peer("curl")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dynzone", "serve"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        server = Server("dynzone", 5353, proc, tmp_path, tmp_path / "none.log")  # type: ignore[arg-type]
        banner = []
        assert proc.stdout is not None
        for line in proc.stdout:  # the banner ends with the Ctrl-C hint
            banner.append(line.rstrip("\n"))
            if "Ctrl-C stops" in line:
                break
        out = dig(server, "dyn.example.test", "SOA")
        assert "status: NOERROR" in out and "\tSOA\t" in out
        assert (tmp_path / "dynzone-data" / "dyn.example.test.zone").is_file()
        assert "192.0.2" not in dig(server, "+short", "www.dyn.example.test")
        # Run the printed curl line, then the printed dig line, as a newcomer would.
        curl_line = next(x.strip() for x in banner if x.strip().startswith("curl -u demo:"))
        dig_line = next(x.strip() for x in banner if "myhost.dyn.example.test A +short" in x)
        sh = ["bash", "-c"]
        updated = subprocess.run([*sh, curl_line], capture_output=True, text=True, timeout=30)
        assert updated.stdout.strip() == "good 192.0.2.10", updated
        answer = subprocess.run([*sh, dig_line], capture_output=True, text=True, timeout=30)
        assert answer.stdout.strip() == "192.0.2.10", answer
        proc.send_signal(signal.SIGINT)
        _stdout, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "  dig @127.0.0.1 -p 5353 dyn.example.test SOA" in banner
    assert "  dig @127.0.0.1 -p 5353 myhost.dyn.example.test A +short" in banner
