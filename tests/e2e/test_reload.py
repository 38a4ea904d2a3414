"""SIGHUP reloads changed zone files without dropping queries; a broken file keeps the old zone."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import dns.message
import dns.query
import dns.rcode

from tests.e2e.conftest import run_dynzone
from tests.peers import wait_until

ZONE = """$TTL 60
@     SOA ns1 host {serial} 3600 600 86400 60
@     NS  ns1
ns1   A   192.0.2.1
www   A   {www}
"""


def a_record(port: int, name: str) -> tuple[int, list[str]]:
    q = dns.message.make_query(name, "A")
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
    return r.rcode(), [rd.to_text() for rrset in r.answer for rd in rrset]


def test_sighup_reloads_a_changed_zone_and_keeps_the_old_one_when_broken(tmp_path: Path) -> None:
    zone = tmp_path / "example.com.zone"
    zone.write_text(ZONE.format(serial=1, www="192.0.2.80"))
    server = run_dynzone(tmp_path / "srv", {"example.com": zone})
    try:
        assert a_record(server.port, "www.example.com") == (dns.rcode.NOERROR, ["192.0.2.80"])

        # Queries keep being answered while the reload happens (bounded loop).
        stop = threading.Event()
        failures: list[str] = []
        answered = [0]

        def query_loop() -> None:
            deadline = time.monotonic() + 30
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    rcode, _ = a_record(server.port, "ns1.example.com")
                    if rcode != dns.rcode.NOERROR:
                        failures.append(dns.rcode.to_text(rcode))
                    answered[0] += 1
                except Exception as exc:  # noqa: BLE001 - record, then assert below
                    failures.append(repr(exc))

        loop = threading.Thread(target=query_loop)
        loop.start()
        try:
            time.sleep(0.2)
            zone.write_text(
                ZONE.format(serial=2, www="192.0.2.81") + 'new   TXT "added by an edit"\n'
            )
            server.proc.send_signal(signal.SIGHUP)
            assert wait_until(
                lambda: a_record(server.port, "www.example.com")[1] == ["192.0.2.81"]
            ), server.log_text()
            assert a_record(server.port, "new.example.com")[0] == dns.rcode.NOERROR
            time.sleep(0.2)
        finally:
            stop.set()
            loop.join()
        assert not failures, failures
        assert answered[0] > 10

        # A broken edit: the previous version keeps serving and the log says why.
        zone.write_text(ZONE.format(serial=3, www="192.0.2.82") + "bad   A 192.0.2.999\n")
        server.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: "keeping serial 2" in server.log_text()), server.log_text()
        assert f"{zone}:6:" in server.log_text()
        assert a_record(server.port, "www.example.com")[1] == ["192.0.2.81"]

        # Fixing the file and reloading again serves the fix.
        zone.write_text(ZONE.format(serial=4, www="192.0.2.83"))
        server.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: a_record(server.port, "www.example.com")[1] == ["192.0.2.83"])
        assert server.proc.poll() is None
    finally:
        server.stop()
    assert server.proc.returncode == 0, "SIGTERM must stop dynzone cleanly"


def test_sighup_rereads_the_config_adding_zones_and_ignoring_a_broken_config(
    tmp_path: Path,
) -> None:
    first = tmp_path / "example.com.zone"
    first.write_text(ZONE.format(serial=1, www="192.0.2.80"))
    second = tmp_path / "example.org.zone"
    second.write_text(ZONE.format(serial=1, www="203.0.113.80"))
    server = run_dynzone(tmp_path / "srv", {"example.com": first})
    try:
        assert a_record(server.port, "www.example.org")[0] == dns.rcode.REFUSED
        config = tmp_path / "srv" / "dynzone.toml"
        good = config.read_text()
        config.write_text(good + f'[[zone]]\nname = "example.org"\nfile = "{second}"\n')
        server.proc.send_signal(signal.SIGHUP)
        assert wait_until(
            lambda: a_record(server.port, "www.example.org")[1] == ["203.0.113.80"]
        ), server.log_text()

        config.write_text(good + "[dns\n")  # not TOML any more
        server.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: "keeping the running configuration" in server.log_text())
        assert "not valid TOML" in server.log_text()
        assert a_record(server.port, "www.example.org")[1] == ["203.0.113.80"]

        config.write_text(good)  # example.org removed from the config
        server.proc.send_signal(signal.SIGHUP)
        assert wait_until(
            lambda: a_record(server.port, "www.example.org")[0] == dns.rcode.REFUSED
        ), server.log_text()
        assert a_record(server.port, "www.example.com")[1] == ["192.0.2.80"]
    finally:
        server.stop()
