"""``dynzone backup`` while updates stream in, ``dynzone restore``, and a secondary after it.

dynzone serves dyn.example.com to an NSD secondary. A client sends signed
UPDATEs one after another, each adding one name (h0, h1, ...) and moving the
serial by one; midway ``dynzone backup`` copies the store. The backup must
restore to exactly the zone as it was at the backup's serial: the names
h0 .. h(serial - start - 1), no more, no fewer. The source then stops and the
restored server takes its place on the same address. NSD, which followed the
source past the backup's serial, must be brought back in line, and the next
update must reach it by IXFR.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import dns.tsigkeyring
import dns.update

from tests.conftest import need_peer
from tests.e2e import dyndns_server
from tests.e2e.dyndns_server import ZONE
from tests.peers import (
    Server,
    TsigSecret,
    free_port,
    serving,
    start_dynzone,
    start_nsd_secondary,
    wait_for_soa,
    wait_until,
)

UPDATES = 40


def _update(port: int, key: TsigSecret, name: str, address: str) -> int:
    msg = dns.update.UpdateMessage(ZONE)
    msg.replace(f"{name}.{ZONE}.", 60, "A", address)
    ring = dns.tsigkeyring.from_text({key.name: (key.algorithm, key.secret)})
    msg.use_tsig(ring, keyname=key.name, algorithm=key.algorithm)
    return dns.query.tcp(msg, "127.0.0.1", port=port, timeout=10).rcode()


def _serial(port: int) -> int | None:
    q = dns.message.make_query(ZONE, "SOA")
    q.flags = 0
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=1)
    except dns.exception.Timeout:
        return None
    return int(r.answer[0][0].serial) if r.answer else None


def _h_names(port: int) -> set[str]:
    zone = dns.query.xfr("127.0.0.1", ZONE, port=port, timeout=10, relativize=False)
    names: set[str] = set()
    for msg in zone:
        for rrset in msg.answer:
            label = rrset.name.labels[0].decode()
            if rrset.rdtype == dns.rdatatype.A and re.fullmatch(r"h\d+", label):
                names.add(label)
    return names


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dynzone", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_backup_while_updating_restores_the_zone_at_its_serial_and_ixfr_goes_on(
    tmp_path: Path,
) -> None:
    need_peer("nsd")
    nsd_port = free_port()
    settings = (
        'allow_transfer = ["key:xfr", "127.0.0.1/32"]\n'
        f'notify = ["127.0.0.1:{nsd_port}"]\n'
        'notify_key = "notify"\n'
    )
    work = tmp_path / "site"
    dz = dyndns_server.start(work, zone=settings)
    nsd: Server | None = None
    restored: Server | None = None
    try:
        xfr, notify = dz.add_key("xfr"), dz.add_key("notify")
        upd = dz.add_key("upd", f"*.{ZONE}")
        nsd = start_nsd_secondary(ZONE, dz.dns_port, xfr, notify, tmp_path / "nsd", nsd_port)
        wait_for_soa(nsd, ZONE)
        start = dz.soa_serial()

        failures: list[int] = []

        def stream() -> None:
            for i in range(UPDATES):
                rcode = _update(dz.dns_port, upd, f"h{i}", f"192.0.2.{i + 1}")
                if rcode != 0:
                    failures.append(rcode)
                time.sleep(0.03)

        writer = threading.Thread(target=stream)
        writer.start()
        time.sleep(0.5)  # some updates in, more coming
        backup = tmp_path / "dynzone.backup"
        done = _cli(dz.config, "backup", str(backup))
        writer.join()
        assert done.returncode == 0, done.stderr
        assert not failures
        found = re.search(rf"{re.escape(ZONE)}\. serial (\d+)", done.stdout)
        assert found, done.stdout
        at_backup = int(found.group(1))
        assert start < at_backup < start + UPDATES, "the backup was taken mid-stream"
        assert backup.stat().st_mode & 0o077 == 0, "a backup holds secrets: 0600"
        final = start + UPDATES
        assert dz.soa_serial() == final
        assert wait_until(lambda: _serial(nsd_port) == final, timeout=20)
    finally:
        dz.stop()

    # Restore into an empty data_dir; the same config otherwise, the same address.
    config = work / "restored.toml"
    config.write_text(dz.config.read_text().replace('data_dir = "data"', 'data_dir = "again"'))
    done = _cli(config, "restore", str(backup))
    assert done.returncode == 0, done.stderr
    assert f"{ZONE}. serial {at_backup}" in done.stdout
    again = _cli(config, "restore", str(backup))
    assert again.returncode == 1 and "only into an empty data_dir" in again.stderr
    exported = _cli(config, "zone", "export", ZONE)
    assert exported.returncode == 0, exported.stderr
    expected = {f"h{i}" for i in range(at_backup - start)}
    assert set(re.findall(r"^(h\d+)\s", exported.stdout, re.M)) == expected

    try:
        restored = serving(start_dynzone(config, work, dz.dns_port), [ZONE])
        # NSD serves the source's last serial, newer than the backup's: the restored
        # server moves past it, and NSD takes the restored zone.
        assert wait_until(
            lambda: (_serial(nsd_port) or 0) > final and _h_names(restored.port) == expected,
            timeout=30,
        ), restored.log_text()[-3000:]
        assert wait_until(lambda: _h_names(nsd_port) == expected, timeout=20)
        # From here on, changes reach NSD by IXFR.
        assert _update(restored.port, upd, "after", "192.0.2.250") == 0
        latest = _serial(restored.port)
        assert wait_until(lambda: _serial(nsd_port) == latest, timeout=20)
        ixfr = rf"IXFR of {re.escape(ZONE)}\. to 127\.0\.0\.1 \(key xfr\): serial \d+ -> {latest},"
        assert wait_until(lambda: re.search(ixfr, restored.log_text()) is not None, timeout=10), (
            restored.log_text()[-3000:]
        )
    finally:
        if restored is not None:
            restored.stop()
        if nsd is not None:
            nsd.stop()
