"""An AXFR of 100,000 records is complete, and consistent while updates commit.

A client keeps committing signed updates (each adds one TXT record ``uN``
and bumps the serial by one) before, during and after kdig transfers the
zone. The transfer must be exactly the zone at the serial it starts with:
``dynzone zone export`` at the end, less the records of later updates.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update

from tests.conftest import need_peer
from tests.e2e import zone_sets
from tests.e2e.update_server import EXAMPLE, EXAMPLE_TEXT, start_update_server

RECORDS = 100_000
MAX_UPDATES = 2000  # bound on the update loop; it stops when the transfer ends


def _zone_text() -> str:
    lines = [EXAMPLE_TEXT]
    lines += [f"h{i} IN A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n" for i in range(RECORDS)]
    return "".join(lines)


def test_axfr_of_100k_records_is_complete_and_consistent_while_updates_commit(
    tmp_path: Path,
) -> None:
    kdig = need_peer("kdig")
    srv = start_update_server(
        tmp_path, 'allow_transfer = ["key:xfr"]\n', zones={EXAMPLE: _zone_text()}
    )
    try:
        xfr = srv.add_key("xfr")
        upd = srv.add_key("upd", f"*.{EXAMPLE}")
        keyring = dns.tsigkeyring.from_text({upd.name: (upd.algorithm, upd.secret)})
        start_serial = srv.serial()
        done_at: list[float] = []  # when update i's reply came
        stop = threading.Event()

        def updates() -> None:
            for i in range(MAX_UPDATES):
                if stop.is_set():
                    return
                up = dns.update.UpdateMessage(EXAMPLE, keyring=keyring, keyname=upd.name)
                up.add(f"u{i}", 300, "TXT", f'"update {i}"')
                r = dns.query.tcp(up, "127.0.0.1", port=srv.port, timeout=30)
                assert r.rcode() == dns.rcode.NOERROR
                done_at.append(time.monotonic())

        writer = threading.Thread(target=updates)
        writer.start()
        try:
            while len(done_at) < 3:
                time.sleep(0.01)
            began = time.monotonic()
            argv = [kdig, "@127.0.0.1", "-p", str(srv.port), "-y"]
            argv += [f"hmac-sha256:{xfr.name}:{xfr.secret}", EXAMPLE, "AXFR", "+noall", "+answer"]
            got = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
            ended = time.monotonic()
        finally:
            stop.set()
            writer.join(timeout=60)
        trouble = got.stderr + "".join(ln for ln in got.stdout.splitlines() if ln.startswith(";"))
        assert got.returncode == 0 and "ERROR" not in trouble, trouble
        rows = [ln.split() for ln in got.stdout.splitlines() if ln and ln[0] != ";"]
        assert rows[0][3] == "SOA" and rows[-1][3] == "SOA" and rows[0] == rows[-1]
        serial = int(rows[0][6])
        committed = serial - start_serial  # updates u0 .. u(committed-1) are in the snapshot
        during = [t for t in done_at if began < t < ended]
        assert during, "no update committed while the transfer ran; nothing was tested"
        assert 0 < committed < len(done_at)

        transferred = zone_sets.from_rows(rows[:-1])
        assert len(rows) - 1 == len(transferred)  # no record sent twice
        exported = srv.cli("zone", "export", EXAMPLE)
        assert exported.returncode == 0, exported.stderr
        final = zone_sets.from_text(exported.stdout, EXAMPLE)
        later = {f'u{i}.{EXAMPLE}. 300 TXT "update {i}"' for i in range(committed, len(done_at))}
        assert later <= final
        soa = {r for r in final if " SOA " in r}
        expected = (final - later - soa) | {r for r in transferred if " SOA " in r}
        assert transferred == expected
        assert len(transferred) == RECORDS + 10 + committed
        print(
            f"\n100k AXFR: {len(rows)} records in {ended - began:.2f} s at serial {serial};"
            f" {len(during)} updates committed during it"
        )
    finally:
        srv.stop()
