#!/usr/bin/env python3
"""dyndns2 updates per second and their latency, by number of concurrent clients.

    python3 bench/dyndns2.py [--clients 1,8,32] [--seconds 5] [--rounds 3] [--chosen]

dynzone serves ``dyn.test`` with its HTTP API on loopback; every client
(aiohttp, one connection each) sends ``/nic/update`` requests one after the
other, each for a host name of its own that it has not updated before, with
HTTP basic authentication as one user, and counts the ``good`` replies. A
``good`` is sent only once the change is durable and served, so this is the
rate of durable updates. The per-host limit is raised for the run (every
request is a new host anyway). ``--chosen`` gives the user a password of its
own choosing (argon2, then remembered) instead of a generated one.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import save_results  # noqa: E402
from tests.peers import free_port, start_dynzone, wait_for_soa  # noqa: E402

ZONE = "dyn.test"
PASSWORD = "a password a person chose"


def start(workdir: Path, chosen: bool, user: str = "bench") -> tuple[object, int, int, str]:
    """dynzone serving ZONE (DNS and HTTP), with ``user`` allowed every name in it;
    returns the server, its DNS and HTTP ports, and the user's password."""
    workdir.mkdir(parents=True, exist_ok=True)
    dns_port, http_port = free_port(), free_port()
    config = workdir / "dynzone.toml"
    config.write_text(
        f'data_dir = "data"\n[dns]\nlisten = ["127.0.0.1:{dns_port}"]\n'
        f'[http]\nlisten = ["127.0.0.1:{http_port}"]\nupdates_per_host_per_minute = 1000000\n'
        f'[[zone]]\nname = "{ZONE}"\nns = ["ns1.{ZONE}."]\nemail = "h@{ZONE}"\n'
        "journal_limit = 1000000\n"
    )
    argv = [sys.executable, "-m", "dynzone", "user", "add", user, "--host", f"*.{ZONE}"]
    argv += ["--config", str(config)]
    if chosen:
        done = subprocess.run(
            [*argv, "--password-stdin"], input=PASSWORD + "\n", text=True,
            capture_output=True, check=True,
        )  # fmt: skip
        password = PASSWORD
    else:
        done = subprocess.run(argv, text=True, capture_output=True, check=True)
        password = done.stdout.split("password: ")[1].split()[0]
    server = start_dynzone(config, workdir, dns_port)
    wait_for_soa(server, ZONE)
    return server, dns_port, http_port, password


async def client(
    session: aiohttp.ClientSession, url: str, auth: str, me: int, until: float
) -> list[float]:
    latencies: list[float] = []
    n = 0
    while time.monotonic() < until:
        n += 1
        query = {"hostname": f"c{me}-{n}.{ZONE}", "myip": f"10.{me}.{n >> 8 & 255}.{n & 255}"}
        started = time.monotonic()
        async with session.get(url, params=query, headers={"Authorization": auth}) as r:
            body = await r.text()
        if body.startswith("good"):
            latencies.append(time.monotonic() - started)
    return latencies


async def measure(http_port: int, password: str, clients: int, seconds: float) -> dict[str, float]:
    auth = "Basic " + base64.b64encode(f"bench:{password}".encode()).decode()
    url = f"http://127.0.0.1:{http_port}/nic/update"
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        # One warm-up request: for a chosen password the one argon2 check.
        await client(session, url, auth, 999, time.monotonic() + 0.01)
        until = time.monotonic() + seconds
        runs = await asyncio.gather(*(client(session, url, auth, i, until) for i in range(clients)))
    every = sorted(x for run in runs for x in run)
    p99 = every[min(len(every) - 1, int(len(every) * 0.99))] if every else float("nan")
    return {
        "per_second": len(every) / seconds,
        "p50_ms": statistics.median(every) * 1000 if every else float("nan"),
        "p99_ms": p99 * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chosen", action="store_true")
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="dynzone-dyndns2-") as tmp:
        for r in range(args.rounds):
            for clients in (int(c) for c in args.clients.split(",")):
                server, _, http_port, password = start(Path(tmp) / f"{r}-{clients}", args.chosen)
                try:
                    got = asyncio.run(measure(http_port, password, clients, args.seconds))
                finally:
                    server.stop()  # type: ignore[attr-defined]
                results.setdefault(str(clients), []).append(got)
                print(
                    f"  {clients:>2} clients, round {r + 1}: {got['per_second']:7.0f} good/s,"
                    f" p50 {got['p50_ms']:.1f} ms, p99 {got['p99_ms']:.1f} ms",
                    flush=True,
                )
    print("\ndyndns2 durable updates per second (best round; p99 of that round)")
    for clients, runs in results.items():
        best = max(runs, key=lambda g: g["per_second"])
        every = " / ".join(f"{g['per_second']:.0f}" for g in runs)
        print(
            f"  {clients:>2} clients: {best['per_second']:7.0f}/s ({every}),"
            f" p99 {best['p99_ms']:.1f} ms"
        )
    save_results("dyndns2", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
