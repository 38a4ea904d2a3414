"""Crash safety: SIGKILL at random moments while updates stream in.

Every request updates two names (A and AAAA each) in one atomic ChangeSet.
After a bounded number of kill/restart rounds:

- every request that got ``good`` is fully in DNS;
- every request is either wholly applied or not at all (the ones in flight
  at a kill included);
- the journal is an unbroken chain of serials ending at the served serial.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import itertools
import os
import random
import re
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.dyndns_server import ZONE, start

ROUNDS = 8
SPAN = 100_000  # update numbers per client per round
SUBTREE = f"crash.{ZONE}"
AUTH = "Basic " + base64.b64encode(b"crash:crash-pw").decode()


def _addresses(n: int) -> tuple[str, str]:
    v6 = ipaddress.IPv6Address(0x2001_0DB8 << 96 | n)
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}", str(v6)


def _names(n: int) -> tuple[str, str]:
    return f"u{n}-a.{SUBTREE}", f"u{n}-b.{SUBTREE}"


class Client(threading.Thread):
    """Sends numbered updates until the server goes away; records what was acknowledged."""

    def __init__(self, port: int, first: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.next = first
        self.acked: list[int] = []
        self.sent: list[int] = []

    def run(self) -> None:
        while True:
            n = self.next
            self.next += 1
            v4, v6 = _addresses(n)
            query = f"/nic/update?hostname={','.join(_names(n))}&myip={v4},{v6}"
            self.sent.append(n)
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", query, headers={"Authorization": AUTH})
                body = conn.getresponse().read().decode()
                conn.close()
            except OSError:
                return  # killed; this request may or may not have committed
            lines = body.split("\n")[:2]
            if all(line == f"good {v4},{v6}" for line in lines):
                self.acked.append(n)
            else:
                raise AssertionError(f"unexpected reply {body!r}")


def _metric(port: int, name: str) -> float:
    """One series' value from the server's /metrics (0 when absent)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@pytest.mark.parametrize("clients", [1, 8], ids=["one-client", "group-commits"])
def test_no_acknowledged_update_is_lost_and_none_is_half_applied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], clients: int
) -> None:
    """With several clients in flight, changes share transactions (group commit):
    a kill then lands in the middle of a batch."""
    seed = int(os.environ.get("CRASH_SEED", time.time()))
    rng = random.Random(seed)
    workdir = tmp_path / "crash"
    http = "updates_per_host_per_minute = 1000\nfailed_logins_per_minute = 1000"
    acked: list[int] = []
    sent: list[int] = []
    kills = 0
    next_n = 1
    batched = 0.0  # changes that shared a transaction with another
    for _ in range(ROUNDS):
        config = workdir / "dynzone.toml"
        if config.exists():
            config.unlink()  # new free ports each round: the killed ones may linger
        dz = start(workdir, http=http, zone="journal_limit = 100000")
        try:
            if next_n == 1:
                dz.add_user("crash", "crash-pw", f"*.{SUBTREE}")
            # Each client numbers its updates in a range of its own.
            group = [Client(dz.http_port, next_n + k * SPAN) for k in range(clients)]
            for client in group:
                client.start()
            time.sleep(rng.uniform(0.3, 2.0))
            if clients > 1:
                transactions = _metric(dz.http_port, "dynzone_store_sync_seconds_count")
                changes = _metric(dz.http_port, 'dynzone_commits_total{result="committed"}')
                batched += changes - transactions
            dz.server.proc.send_signal(signal.SIGKILL)
            dz.server.proc.wait(timeout=10)
            kills += 1
            for client in group:
                client.join(timeout=30)
                assert not client.is_alive()
                acked += client.acked
                sent += client.sent
            next_n += clients * SPAN
        finally:
            dz.stop()

    config = workdir / "dynzone.toml"
    config.unlink()
    dz = start(workdir, http=http, zone="journal_limit = 100000")
    try:
        acked_set = set(acked)
        half = []
        for n in sent:
            v4, v6 = _addresses(n)
            seen = [(dz.query(name), dz.query(name, "AAAA")) for name in _names(n)]
            whole = all(s == ([v4], [v6]) for s in seen)
            none = all(s == ([], []) for s in seen)
            if n in acked_set:
                assert whole, f"acknowledged update {n} lost or partial: {seen} (seed {seed})"
            elif not (whole or none):
                half.append((n, seen))
        assert not half, f"half-applied updates: {half} (seed {seed})"

        done = dz.cli("zone", "journal", ZONE)
        assert done.returncode == 0, done.stderr
        chain = [
            (int(a), int(b))
            for a, b in re.findall(r"^; serial (\d+) -> (\d+)", done.stdout, re.MULTILINE)
        ]
        assert all(prev[1] == cur[0] for prev, cur in itertools.pairwise(chain))
        assert chain[-1][1] == dz.soa_serial()
        # One journal entry per committed request, holding both of its names.
        entries = done.stdout.split("; serial ")[1:]
        committed = [n for n in sent if dz.query(_names(n)[0])]
        for n in committed:
            a, b = _names(n)
            holding = [e for e in entries if f"+ {a}. " in e]
            assert len(holding) == 1 and f"+ {b}. " in holding[0], f"journal for update {n}"
    finally:
        dz.stop()
    assert len(acked) > ROUNDS, "too few updates were acknowledged to test anything"
    if clients > 1:
        assert batched > 0, "no change shared a transaction: group commit never happened"
    with capsys.disabled():
        print(
            f"\ncrash safety, {clients} client(s): {len(acked)} acknowledged updates checked"
            f" after {kills} SIGKILLs ({len(sent)} sent, {len(committed)} committed,"
            f" {batched:.0f} in shared transactions, seed {seed})"
        )
