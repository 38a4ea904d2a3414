#!/usr/bin/env python3
"""RFC 2136 updates per second: dynzone beside Knot and BIND, by zone size and updates in flight.

    python3 bench/writes.py [--rounds 3] [--seconds 6] [--sizes 10000,100000] [--inflight 1,16,64]

Every server serves one zone, ``w.test``, of N host A records, and takes
UPDATEs to it signed with hmac-sha256: Knot and BIND's named keep them in
their journals, as dynzone keeps them in its store. Knot runs one UDP
worker and named one worker thread (``-n 1``). dnsperf (``-u``) replays a
file of UPDATEs, each replacing one random host's address with a new one,
with a fixed number in flight, for ``--seconds``. Every UPDATE changes the
zone (a serial step and a journal entry each). Rounds rotate the servers'
order; every round's figure is printed, and the table gives the best of the
rounds and dynzone's ratios to Knot and to BIND. Results go to bench/results/ as JSON.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import save_results  # noqa: E402
from tests.peers import (  # noqa: E402
    Server,
    TsigSecret,
    find_binary,
    free_port,
    start_dynzone,
    start_knot,
    start_named,
    wait_for_soa,
)

ZONE = "w.test"
KINDS = ["dynzone", "knot", "named"]
NAMES = {"dynzone": "dynzone", "knot": "Knot", "named": "BIND"}
KEY = TsigSecret("bench-writes", "hmac-sha256", "ZHluem9uZS1iZW5jaC13cml0ZXMtc2VjcmV0LTMyYiE=")


def write_zone(path: Path, hosts: int) -> None:
    lines = [
        f"$ORIGIN {ZONE}.",
        "$TTL 60",
        "@ SOA ns1 hostmaster 1 3600 600 86400 60",
        "@ NS ns1",
        "ns1 A 192.0.2.1",
    ]
    lines += [f"h{i} A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(hosts)]
    path.write_text("\n".join(lines) + "\n")


def write_updates(path: Path, hosts: int, count: int = 50_000, seed: int = 2136) -> None:
    """UPDATEs in dnsperf's format, each giving a random host an address it does not have."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        host = rng.randrange(hosts)
        address = f"172.{16 + (n >> 16) % 16}.{n >> 8 & 255}.{n & 255}"
        out += [ZONE, f"delete h{host}.{ZONE}. A", f"add h{host}.{ZONE}. 60 A {address}", "send"]
    path.write_text("\n".join(out) + "\n")


def start(kind: str, zone_file: Path, workdir: Path) -> Server:
    workdir.mkdir(parents=True, exist_ok=True)
    if kind == "knot":
        return start_knot({ZONE: zone_file}, workdir, update_key=KEY, updatable=(ZONE,))
    if kind == "named":
        return start_named({ZONE: zone_file}, workdir, update_key=KEY, updatable=(ZONE,))
    port = free_port()
    config = workdir / "dynzone.toml"
    config.write_text(
        f'data_dir = "data"\n[dns]\nlisten = ["127.0.0.1:{port}"]\n'
        f'[[zone]]\nname = "{ZONE}"\nfile = "{zone_file}"\njournal_limit = 100000\n'
    )
    subprocess.run(
        [sys.executable, "-m", "dynzone", "key", "add", KEY.name, "--config", str(config),
         "--grant", f"*.{ZONE} A", "--secret", KEY.secret],
        check=True, capture_output=True, cwd=workdir,
    )  # fmt: skip
    return start_dynzone(config, workdir, port)


def run(server: Server, updates: Path, inflight: int, seconds: int) -> dict[str, float]:
    done = subprocess.run(
        ["dnsperf", "-u", "-s", "127.0.0.1", "-p", str(server.port), "-d", str(updates),
         "-y", f"{KEY.algorithm}:{KEY.name}:{KEY.secret}", "-q", str(inflight),
         "-l", str(seconds), "-t", "10"],
        capture_output=True, text=True, timeout=seconds + 60, check=False,
    )  # fmt: skip
    text = done.stdout
    rate = re.search(r"Updates per second:\s+([\d.]+)", text)
    latency = re.search(r"Average Latency \(s\):\s+([\d.]+)", text)
    noerror = re.search(r"NOERROR (\d+)", text)
    completed = re.search(r"Updates completed:\s+(\d+)", text)
    if not rate or not completed:
        raise RuntimeError(f"dnsperf said:\n{text}\n{done.stderr}")
    return {
        "per_second": float(rate.group(1)),
        "latency_ms": float(latency.group(1)) * 1000 if latency else 0.0,
        "noerror_share": int(noerror.group(1)) / max(1, int(completed.group(1)))
        if noerror
        else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--inflight", default="1,16,64")
    args = parser.parse_args()
    if any(find_binary(b) is None for b in ("knotd", "named", "dnsperf")):
        sys.exit("knot, bind9 and dnsperf are needed: run sudo scripts/install-peers.sh")
    sizes = [int(s) for s in args.sizes.split(",")]
    inflight = [int(s) for s in args.inflight.split(",")]
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    with tempfile.TemporaryDirectory(prefix="dynzone-writes-") as tmp:
        tmpdir = Path(tmp)
        for size in sizes:
            zone_file = tmpdir / f"w-{size}.zone"
            updates = tmpdir / f"updates-{size}.txt"
            write_zone(zone_file, size)
            write_updates(updates, size)
            for r in range(args.rounds):
                order = KINDS[r % 3 :] + KINDS[: r % 3]
                for kind in order:
                    for q in inflight:
                        # A fresh server for every run: each starts from the same zone.
                        server = start(kind, zone_file, tmpdir / f"{kind}-{size}-{r}-{q}")
                        try:
                            wait_for_soa(server, ZONE, timeout=120)
                            got = run(server, updates, q, args.seconds)
                        finally:
                            server.stop()
                        key = f"{size}/{q}"
                        results.setdefault(key, {}).setdefault(kind, []).append(got)
                        print(
                            f"  {size:>7} records, {q:>2} in flight, round {r + 1}, {kind:7}:"
                            f" {got['per_second']:8.0f}/s, latency {got['latency_ms']:.1f} ms,"
                            f" NOERROR {got['noerror_share']:.0%}",
                            flush=True,
                        )
    print("\nRFC 2136 updates per second (best of rounds; every round in brackets)")
    head = "".join(f"  {NAMES[k]:>28}" for k in KINDS)
    print(f"  {'zone':>9} {'in flight':>9}{head}  dynzone/Knot  dynzone/BIND")
    for key, by_kind in results.items():
        size, q = key.split("/")
        best = {}
        line = f"  {size:>9} {q:>9}"
        for kind in KINDS:
            rates = [g["per_second"] for g in by_kind.get(kind, [])]
            best[kind] = max(rates, default=0.0)
            rounds = " / ".join(f"{x:.0f}" for x in rates)
            line += f"  {best[kind]:8.0f} ({rounds:>17})"
        for other in ("knot", "named"):
            ratio = best["dynzone"] / best[other] if best[other] else float("nan")
            line += f"  {ratio:12.2f}"
        print(line)
    save_results("writes", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
