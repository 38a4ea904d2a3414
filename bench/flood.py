#!/usr/bin/env python3
"""Legitimate updates and queries during a wrong-password flood.

    python3 bench/flood.py [--seconds 8] [--rounds 3] [--attackers 50]

dynzone serves ``dyn.test`` (DNS and HTTP on loopback). Each round runs twice,
without and with the flood:

* a legitimate client (one user whose password a person chose: argon2, then
  remembered) sends a dyndns2 update every 50 ms, each for a new host, and
  times every reply;
* dnsperf asks DNS queries (a file of existing, NODATA and NXDOMAIN names)
  as fast as it can for the whole time;
* with the flood: ``--attackers`` clients, each from an address of its own
  (127.0.2.1, 127.0.2.2, ...), send the legitimate user's name with wrong
  passwords, one request after another. ``--victim unknown`` sends a user
  name that does not exist instead, so no remembered login can tell the
  password wrong and each guess the budget lets through costs argon2.

It prints the legitimate updates' p50 and p99, how many got ``good``, and
query QPS with the flood as a share of QPS without it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import dnsperf, save_results  # noqa: E402
from bench.dyndns2 import PASSWORD, ZONE, start  # noqa: E402


def write_queries(path: Path) -> None:
    names = [f"{ZONE} SOA", f"{ZONE} NS", f"nx.{ZONE} A", f"ns1.{ZONE} A", f"{ZONE} TXT"]
    path.write_text("\n".join(names * 200) + "\n")


async def legit(url: str, until: float, prefix: str = "l") -> list[float | None]:
    """Latency of every update; None for one that did not get ``good``."""
    auth = "Basic " + base64.b64encode(f"legit:{PASSWORD}".encode()).decode()
    out: list[float | None] = []
    n = 0
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < until:
            n += 1
            started = time.monotonic()
            query = {"hostname": f"{prefix}{n}.{ZONE}", "myip": f"10.9.{n >> 8 & 255}.{n & 255}"}
            async with session.get(url, params=query, headers={"Authorization": auth}) as r:
                body = await r.text()
            out.append(time.monotonic() - started if body.startswith("good") else None)
            await asyncio.sleep(max(0.0, 0.05 - (time.monotonic() - started)))
    return out


async def attacker(url: str, me: int, until: float, victim: str) -> int:
    source = f"127.0.2.{me + 1}"
    auth = "Basic " + base64.b64encode(f"{victim}:wrong-{me}".encode()).decode()
    sent = 0
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        while time.monotonic() < until:
            try:
                async with session.get(url, headers={"Authorization": auth}) as r:
                    await r.read()
            except aiohttp.ClientError:
                await asyncio.sleep(0.01)
            sent += 1
    return sent


async def round_(
    http_port: int, seconds: float, attackers: int, victim: str = "legit"
) -> tuple[list[float | None], int]:
    url = f"http://127.0.0.1:{http_port}/nic/update"
    # Warm up: the legitimate user's one argon2 check, remembered from then on.
    await legit(url, time.monotonic() + 0.01, prefix="warm")
    until = time.monotonic() + seconds
    flood = [attacker(url, i, until, victim) for i in range(attackers)]
    got = await asyncio.gather(legit(url, until), *flood)
    return got[0], sum(got[1:])


def _ask_queries(into: dict[str, float], port: int, queries: Path, seconds: int) -> None:
    into.update(dnsperf(port, queries, seconds, 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--attackers", type=int, default=50)
    parser.add_argument(
        "--victim", choices=("legit", "unknown"), default="legit",
        help="whose password the flood guesses: the legitimate user's or no one's",
    )  # fmt: skip
    args = parser.parse_args()
    results: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="dynzone-flood-") as tmp:
        queries = Path(tmp) / "queries.txt"
        write_queries(queries)
        for r in range(args.rounds):
            row: dict[str, float] = {}
            for attackers in (0, args.attackers):
                server, dns_port, http_port, _ = start(
                    Path(tmp) / f"{r}-{attackers}", chosen=True, user="legit"
                )
                try:
                    qps: dict[str, float] = {}
                    thread = threading.Thread(
                        target=_ask_queries, args=(qps, dns_port, queries, int(args.seconds))
                    )
                    thread.start()
                    lat, wrong = asyncio.run(
                        round_(http_port, args.seconds, attackers, args.victim)
                    )
                    thread.join()
                finally:
                    server.stop()  # type: ignore[attr-defined]
                good = sorted(x for x in lat if x is not None)
                tag = "flood" if attackers else "quiet"
                row[f"{tag}_qps"] = qps.get("qps", float("nan"))
                row[f"{tag}_good"] = len(good)
                row[f"{tag}_sent"] = len(lat)
                row[f"{tag}_p50_ms"] = statistics.median(good) * 1000 if good else float("nan")
                row[f"{tag}_p99_ms"] = good[min(len(good) - 1, int(len(good) * 0.99))] * 1000
                row[f"{tag}_wrong"] = wrong
            row["qps_ratio"] = row["flood_qps"] / row["quiet_qps"]
            results.append(row)
            print(
                f"  round {r + 1}: legit good {row['flood_good']:.0f}/{row['flood_sent']:.0f},"
                f" p50 {row['flood_p50_ms']:.1f} ms, p99 {row['flood_p99_ms']:.1f} ms"
                f" (quiet: p99 {row['quiet_p99_ms']:.1f} ms); {row['flood_wrong']:.0f} wrong"
                f" passwords sent; queries {row['flood_qps']:.0f}/s vs {row['quiet_qps']:.0f}/s"
                f" quiet = {row['qps_ratio']:.2f}",
                flush=True,
            )
    save_results(f"flood-{args.victim}", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
