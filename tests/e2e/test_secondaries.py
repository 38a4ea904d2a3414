"""NSD and Knot as secondaries of dynzone: TSIG transfers, NOTIFY, IXFR, convergence.

Each pulls dyn.example.com from dynzone with its own TSIG key
(``allow_transfer = ["key:xfr-nsd", "key:xfr-knot"]``), so dynzone's log
tells whose transfer it served, and both accept NOTIFY signed with the key
``notify``. After a dyndns2 update (curl)
and an RFC 2136 update (nsupdate) each must answer the new data; the time
from the update's reply to the secondary's answer is measured, and each
secondary's log and dynzone's must show that IXFR, not AXFR, carried it.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import time
from collections.abc import Iterator

import dns.exception
import dns.message
import dns.query
import dns.rdatatype
import dns.tsigkeyring
import dns.update
import pytest

from tests.conftest import need_peer
from tests.e2e import dyndns_server, zone_sets
from tests.e2e.dyndns_server import ZONE, Dynzone
from tests.peers import (
    Server,
    TsigSecret,
    free_port,
    start_knot_secondary,
    start_nsd_secondary,
    wait_for_soa,
    wait_until,
)

PASSWORD = "secondary-test-password"
# Update-to-secondary times, reported at the end of the module.
TIMES: dict[str, list[float]] = {"nsd": [], "knot": []}


class Setup:
    def __init__(
        self, dz: Dynzone, keys: dict[str, TsigSecret], upd: TsigSecret, secondaries: list[Server]
    ) -> None:
        self.dz = dz
        self.keys = keys  # transfer key by secondary name
        self.upd = upd
        self.secondaries = secondaries


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    need_peer("nsd")
    need_peer("knotd")
    base = tmp_path_factory.mktemp("secondaries")
    nsd_port, knot_port = free_port(), free_port()
    settings = (
        'allow_transfer = ["key:xfr-nsd", "key:xfr-knot"]\n'
        f'notify = ["127.0.0.1:{nsd_port}", "127.0.0.1:{knot_port}"]\n'
        'notify_key = "notify"\n'
    )
    dz = dyndns_server.start(base / "dynzone", zone=settings)
    started: list[Server] = []
    try:
        keys = {"nsd": dz.add_key("xfr-nsd"), "knot": dz.add_key("xfr-knot")}
        notify = dz.add_key("notify")
        upd = dz.add_key("upd", f"*.{ZONE}")
        dz.add_user("alice", PASSWORD, f"home.{ZONE}")
        started.append(
            start_nsd_secondary(ZONE, dz.dns_port, keys["nsd"], notify, base / "nsd", nsd_port)
        )
        started.append(
            start_knot_secondary(ZONE, dz.dns_port, keys["knot"], notify, base / "knot", knot_port)
        )
        for s in started:
            wait_for_soa(s, ZONE)
        yield Setup(dz, keys, upd, started)
    finally:
        for s in started:
            s.stop()
        dz.stop()
        if any(TIMES.values()):
            _report()


def _report() -> None:
    every = TIMES["nsd"] + TIMES["knot"]
    parts = ", ".join(
        f"{name} median {statistics.median(v):.3f} s max {max(v):.3f} s"
        for name, v in TIMES.items()
        if v
    )
    print(
        f"\nupdate-to-secondary: median {statistics.median(every):.3f} s over"
        f" {len(every)} (secondary, update) pairs; {parts}"
    )


def _ask(server: Server, name: str, rdtype: str = "A") -> list[str]:
    """What ``server`` answers (sorted rdata text); empty on no answer."""
    q = dns.message.make_query(name, dns.rdatatype.from_text(rdtype))
    q.flags = 0
    try:
        r = dns.query.udp(q, "127.0.0.1", port=server.port, timeout=1)
    except dns.exception.Timeout:
        return []
    wanted = q.question[0].rdtype
    return sorted(rd.to_text() for rrset in r.answer if rrset.rdtype == wanted for rd in rrset)


def _serial(server: Server) -> int | None:
    found = _ask(server, ZONE, "SOA")
    return int(found[0].split()[2]) if found else None


def _converge(setup: Setup, name: str, value: str, acked: float) -> dict[str, float]:
    """Poll every secondary (every 10 ms) until each answers ``value`` for ``name``.

    Returns and records, per secondary, the seconds from ``acked`` (the
    update's reply) to its first such answer.
    """
    took: dict[str, float] = {}
    deadline = acked + 20
    while len(took) < len(setup.secondaries) and time.monotonic() < deadline:
        for s in setup.secondaries:
            if s.name not in took and value in _ask(s, name):
                took[s.name] = time.monotonic() - acked
        time.sleep(0.01)
    for s in setup.secondaries:
        assert s.name in took, (
            f"{s.name} never answered {value} for {name}:\n{s.log_text()[-3000:]}"
            f"\ndynzone:\n{setup.dz.server.log_text()[-3000:]}"
        )
        TIMES[s.name].append(took[s.name])
    return took


def _served(setup: Setup, secondary: str, serial_to: int | None = None) -> tuple[int, int]:
    """How many IXFRs (ending at ``serial_to``, if given) and AXFRs dynzone served
    to ``secondary`` (told apart by its transfer key)."""
    log = setup.dz.server.log_text()
    key = re.escape(f"(key xfr-{secondary})")
    end = rf" -> {serial_to}," if serial_to is not None else ""
    ixfr = re.findall(rf"IXFR of {re.escape(ZONE)}\. to 127\.0\.0\.1 {key}: serial \d+{end}", log)
    axfr = re.findall(
        rf"AXFR of {re.escape(ZONE)}\. serial \d+ \(\d+ records\) to [^ ]+ {key}", log
    )
    return len(ixfr), len(axfr)


def _knot_logged_ixfr(server: Server, serial: int) -> bool:
    """Whether Knot's own log says an IXFR brought it ``serial``."""
    # "IXFR, incoming, ... finished, ..." then "refresh, ... zone updated, ... serial A -> N"
    pattern = rf"IXFR, incoming[^\n]*finished[^\n]*\n[^\n]*zone updated[^\n]* -> {serial},"
    return re.search(pattern, server.log_text()) is not None


def _signed_update(setup: Setup, name: str, address: str) -> float:
    """An RFC 2136 update with nsupdate (TSIG key upd); returns when its reply came."""
    script = (
        f"server 127.0.0.1 {setup.dz.dns_port}\n"
        f"key hmac-sha256:{setup.upd.name} {setup.upd.secret}\n"
        f"update delete {name} A\nupdate add {name} 60 A {address}\nsend\n"
    )
    done = subprocess.run(
        ["nsupdate"], input=script, capture_output=True, text=True, timeout=30, check=False
    )
    acked = time.monotonic()
    assert done.returncode == 0, done.stderr
    return acked


def _dyndns2_update(setup: Setup, address: str) -> float:
    status, body = setup.dz.curl(f"hostname=home.{ZONE}&myip={address}", "alice", PASSWORD)
    acked = time.monotonic()
    assert (status, body) == (200, f"good {address}")
    return acked


def _axfr_set(port: int, key: TsigSecret | None = None) -> set[str]:
    """The zone as transferred from 127.0.0.1:port, as a set of record lines."""
    kw: dict[str, object] = {}
    if key is not None:
        kw["keyring"] = dns.tsigkeyring.from_text({key.name: (key.algorithm, key.secret)})
        kw["keyname"] = key.name
    messages = dns.query.xfr("127.0.0.1", ZONE, port=port, timeout=10, relativize=False, **kw)
    return zone_sets.from_messages(messages)


def test_initial_transfer_gives_each_secondary_the_whole_zone(setup: Setup) -> None:
    want = _axfr_set(setup.dz.dns_port, setup.keys["nsd"])
    assert f"static.{ZONE}. 300 A 192.0.2.1" in want
    for s in setup.secondaries:
        assert wait_until(lambda s=s: _serial(s) == setup.dz.soa_serial()), s.log_text()
        assert _axfr_set(s.port) == want, s.name
        assert _served(setup, s.name)[1] >= 1, f"no AXFR to {s.name} in dynzone's log"


@pytest.mark.parametrize("round_", range(3))
def test_dyndns2_update_reaches_both_secondaries_by_ixfr(setup: Setup, round_: int) -> None:
    address = f"198.51.100.{10 + round_}"
    before = {s.name: _served(setup, s.name)[1] for s in setup.secondaries}
    acked = _dyndns2_update(setup, address)
    serial = setup.dz.soa_serial()
    _converge(setup, f"home.{ZONE}", address, acked)
    _check_ixfr_carried(setup, serial, before)


def _check_ixfr_carried(setup: Setup, serial: int, axfrs_before: dict[str, int]) -> None:
    for s in setup.secondaries:
        assert wait_until(lambda s=s: _served(setup, s.name, serial)[0] >= 1, timeout=10), (
            f"no IXFR to {s.name} ending at {serial}:\n{setup.dz.server.log_text()[-3000:]}"
        )
        assert _served(setup, s.name)[1] == axfrs_before[s.name], f"an AXFR went to {s.name}"


@pytest.mark.parametrize("round_", range(3))
def test_rfc2136_update_reaches_both_secondaries_by_ixfr(setup: Setup, round_: int) -> None:
    address = f"203.0.113.{20 + round_}"
    before = {s.name: _served(setup, s.name)[1] for s in setup.secondaries}
    acked = _signed_update(setup, f"nsupdate.{ZONE}", address)
    serial = setup.dz.soa_serial()
    _converge(setup, f"nsupdate.{ZONE}", address, acked)
    _check_ixfr_carried(setup, serial, before)
    knot = next(s for s in setup.secondaries if s.name == "knot")
    assert wait_until(lambda: _knot_logged_ixfr(knot, serial), timeout=5), knot.log_text()


def test_burst_of_updates_ends_with_equal_zones(setup: Setup) -> None:
    keyring = dns.tsigkeyring.from_text({setup.upd.name: ("hmac-sha256", setup.upd.secret)})
    for i in range(40):
        up = dns.update.UpdateMessage(ZONE, keyring=keyring, keyname=setup.upd.name)
        up.replace(f"burst{i % 7}", 60, "TXT", f'"round {i}"')
        if i % 5 == 0:
            up.delete(f"burst{(i + 3) % 7}")
        r = dns.query.tcp(up, "127.0.0.1", port=setup.dz.dns_port, timeout=10)
        assert r.rcode() == 0
    final = setup.dz.soa_serial()
    for s in setup.secondaries:
        assert wait_until(lambda s=s: _serial(s) == final, timeout=30), (
            f"{s.name} stuck at {_serial(s)}, want {final}:\n{s.log_text()[-3000:]}"
        )
    want = _axfr_set(setup.dz.dns_port, setup.keys["knot"])
    for s in setup.secondaries:
        assert _axfr_set(s.port) == want, s.name


def test_zone_status_shows_each_secondary_current_with_catch_up_time(setup: Setup) -> None:
    acked = _dyndns2_update(setup, "198.51.100.77")
    _converge(setup, f"home.{ZONE}", "198.51.100.77", acked)
    serial = setup.dz.soa_serial()
    # The server records a catch-up time once its own SOA poll sees the serial.
    assert wait_until(
        lambda: setup.dz.cli("zone", "status", ZONE).stdout.count("caught up") == 2, timeout=10
    ), setup.dz.cli("zone", "status", ZONE).stdout
    done = setup.dz.cli("zone", "status", ZONE, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["serial"] == serial
    ports = {s.port for s in setup.secondaries}
    assert {int(s["address"].rsplit(":", 1)[1]) for s in report["secondaries"]} == ports
    for s in report["secondaries"]:
        assert s["serial"] == serial and s["current"] is True, s
        assert 0 <= s["catch_up_seconds"] < 20, s
    status, body = setup.dz.curl("", "alice", PASSWORD, path=f"/api/zones/{ZONE}/status")
    assert status == 200, body
    assert json.loads(body)["serial"] == serial
    status, _ = setup.dz.curl("", "alice", "wrong", path=f"/api/zones/{ZONE}/status")
    assert status == 401


def test_a_patch_may_wait_until_every_secondary_serves_it(setup: Setup) -> None:
    # PowerDNS-compatible API, ?wait=secondaries: the 204 comes once NSD and
    # Knot both serve the new serial, so they answer the new data at once.
    made = setup.dz.cli("token", "add", "waiter", "--grant", f"*.{ZONE} A")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    body = {
        "rrsets": [
            {
                "name": f"waited.{ZONE}.",
                "type": "A",
                "ttl": 60,
                "changetype": "REPLACE",
                "records": [{"content": "198.51.100.88", "disabled": False}],
            }
        ]
    }
    url = setup.dz.url(f"/api/v1/servers/localhost/zones/{ZONE}.?wait=secondaries&timeout=20")
    done = subprocess.run(
        ["curl", "-sS", "-X", "PATCH", "-H", f"X-API-Key: {key}", "--data", json.dumps(body),
         "-o", "-", "-w", "%{http_code}", url],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout == "204", done.stdout + done.stderr
    serial = setup.dz.soa_serial()
    for secondary in setup.secondaries:
        assert _serial(secondary) == serial, secondary.name
        assert _ask(secondary, f"waited.{ZONE}") == ["198.51.100.88"], secondary.name
