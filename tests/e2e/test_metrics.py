"""``/metrics`` scraped by a real Prometheus, and ``/health``.

dynzone serves dyn.example.com to an NSD secondary (NOTIFY, TSIG transfers),
so the propagation tracker has a serial to report. Prometheus (Debian's
``prometheus``, on loopback, its data in a temporary directory) scrapes
every second; the test reads series back through its query API.
"""

from __future__ import annotations

import json
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator

import dns.message
import dns.query
import pytest

from tests.conftest import need_peer
from tests.e2e import dyndns_server
from tests.e2e.dyndns_server import ZONE, Dynzone
from tests.peers import Server, free_port, start_nsd_secondary, wait_for_soa, wait_until

PASSWORD = "metrics-test-password"


class Setup:
    def __init__(self, dz: Dynzone, nsd: Server, prometheus_port: int) -> None:
        self.dz = dz
        self.nsd = nsd
        self.prometheus_port = prometheus_port

    def query(self, expr: str) -> list[dict[str, object]]:
        url = f"http://127.0.0.1:{self.prometheus_port}/api/v1/query?" + urllib.parse.urlencode(
            {"query": expr}
        )
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.load(r)
        assert body["status"] == "success", body
        return list(body["data"]["result"])


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    prometheus = need_peer("prometheus")
    need_peer("nsd")
    base = tmp_path_factory.mktemp("metrics")
    nsd_port = free_port()
    settings = (
        f'allow_transfer = ["key:xfr"]\nnotify = ["127.0.0.1:{nsd_port}"]\nnotify_key = "notify"\n'
    )
    dz = dyndns_server.start(
        base / "dynzone", http='metrics_from = ["127.0.0.1/32"]', zone=settings
    )
    nsd: Server | None = None
    prom: subprocess.Popen[bytes] | None = None
    try:
        xfr, notify = dz.add_key("xfr"), dz.add_key("notify")
        dz.add_user("alice", PASSWORD, f"home.{ZONE}")
        nsd = start_nsd_secondary(ZONE, dz.dns_port, xfr, notify, base / "nsd", nsd_port)
        wait_for_soa(nsd, ZONE)
        port = free_port()
        (base / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: dynzone\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{dz.http_port}']\n"
        )
        log = open(base / "prometheus.log", "wb")  # noqa: SIM115 - the child owns it
        prom = subprocess.Popen(
            [
                prometheus,
                f"--config.file={base / 'prometheus.yml'}",
                f"--storage.tsdb.path={base / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=base,
        )
        log.close()
        yield Setup(dz, nsd, port)
    finally:
        if prom is not None:
            prom.terminate()
            try:
                prom.wait(timeout=20)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
        if nsd is not None:
            nsd.stop()
        dz.stop()


def test_prometheus_reads_query_counts_and_secondary_serials(setup: Setup) -> None:
    dz = setup.dz
    for _ in range(5):
        q = dns.message.make_query(f"static.{ZONE}", "A")
        dns.query.udp(q, "127.0.0.1", port=dz.dns_port, timeout=3)
    got = dz.curl(f"hostname=home.{ZONE}&myip=192.0.2.77", "alice", PASSWORD)
    assert got == (200, "good 192.0.2.77")
    serial = dz.soa_serial()

    def secondary_at_serial() -> bool:
        found = setup.query(f'dynzone_secondary_serial{{zone="{ZONE}."}}')
        return any(float(r["value"][1]) == serial for r in found)  # type: ignore[index]

    assert wait_until(secondary_at_serial, timeout=60), "Prometheus never saw the new serial"
    found = setup.query(f'dynzone_dns_requests_total{{transport="udp",type="A",zone="{ZONE}."}}')
    assert found and float(found[0]["value"][1]) >= 5  # type: ignore[index]
    updates = setup.query('dynzone_updates_total{door="dyndns2",result="good"}')
    assert updates and float(updates[0]["value"][1]) >= 1  # type: ignore[index]
    secondary = setup.query(f'dynzone_secondary_serial{{zone="{ZONE}."}}')
    assert secondary[0]["metric"]["secondary"] == f"127.0.0.1:{setup.nsd.port}"  # type: ignore[index]


def test_metrics_only_for_metrics_from_and_health_for_anyone(setup: Setup) -> None:
    dz = setup.dz
    assert dz.curl("", path="/metrics")[0] == 200
    status, body = dz.curl("", None, None, "--interface", "127.0.0.3", path="/metrics")
    assert status == 403 and "metrics_from" in body
    status, body = dz.curl("", None, None, "--interface", "127.0.0.3", path="/health")
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_prometheus_finds_the_target_up(setup: Setup) -> None:
    up = setup.query('up{job="dynzone"}')
    assert up and up[0]["value"][1] == "1", up  # type: ignore[index]
