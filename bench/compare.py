#!/usr/bin/env python3
"""Side-by-side benchmark: dynzone against NSD (and Knot when installed).

    python bench/compare.py qps      # dnsperf queries/second, same zone and query file
    python bench/compare.py memory   # load time and memory for a 1,000,000-record zone
    python bench/compare.py all

Every server listens on 127.0.0.1 on a free port, gets the same zone, and is
stopped before the next starts. Each dnsperf run is bounded in time (-l).
Results are printed as a table with the dynzone/NSD ratio and written as JSON
to bench/results/. Needs the peers: sudo scripts/install-peers.sh
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.peers import (  # noqa: E402 - after the path set-up above
    Server,
    find_binary,
    free_port,
    start_dynzone,
    start_knot,
    start_nsd,
    wait_for_soa,
)

ZONE = "bench.test"


def write_qps_zone(path: Path, hosts: int = 10_000) -> None:
    """A zone with hosts, aliases (CNAME), a wildcard and empty non-terminals."""
    lines = [
        f"$ORIGIN {ZONE}.",
        "$TTL 300",
        "@ SOA ns1 hostmaster 1 3600 600 86400 60",
        "@ NS ns1",
        "@ NS ns2",
        "@ MX 10 mail",
        "ns1 A 192.0.2.1",
        "ns2 A 192.0.2.2",
        "mail A 192.0.2.3",
        "*.wild A 192.0.2.100",
    ]
    for i in range(hosts):
        lines.append(f"host{i} A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")
        if i % 4 == 0:
            lines.append(f"host{i} AAAA 2001:db8::{i:x}")
        if i % 10 == 0:
            lines.append(f"alias{i} CNAME host{i}")
        if i % 50 == 0:
            lines.append(f"x.y{i}.ent A 192.0.2.{i % 250}")
    path.write_text("\n".join(lines) + "\n")


def write_queries(path: Path, hosts: int = 10_000, count: int = 100_000) -> dict[str, int]:
    """dnsperf query file mixing the answer kinds; returns how many of each."""
    rng = random.Random(8482)
    kinds = {"existing": 0, "nxdomain": 0, "nodata": 0, "cname": 0, "wildcard": 0}
    out = []
    for _ in range(count):
        roll = rng.random()
        i = rng.randrange(hosts)
        if roll < 0.40:
            out.append(f"host{i}.{ZONE} A")
            kinds["existing"] += 1
        elif roll < 0.55:
            out.append(f"nx{rng.randrange(10**6)}.{ZONE} A")
            kinds["nxdomain"] += 1
        elif roll < 0.70:
            out.append(f"host{i}.{ZONE} {'MX' if i % 4 == 0 else 'AAAA'}")
            kinds["nodata"] += 1
        elif roll < 0.85:
            out.append(f"alias{i - i % 10}.{ZONE} A")
            kinds["cname"] += 1
        else:
            out.append(f"w{rng.randrange(10**5)}.wild.{ZONE} A")
            kinds["wildcard"] += 1
    path.write_text("\n".join(out) + "\n")
    return kinds


WITH_HTTP = False  # --http
WITH_RRL = False  # --rrl


def start(kind: str, zone_file: Path, workdir: Path) -> Server:
    zones = {ZONE: zone_file}
    if kind == "nsd":
        return start_nsd(zones, workdir)
    if kind == "knot":
        return start_knot(zones, workdir)
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "dynzone.toml"
    # With HTTP on, /metrics is served and every query is counted for it.
    http = f'[http]\nlisten = ["127.0.0.1:{free_port()}"]\n' if WITH_HTTP else ""
    # dnsperf asks from loopback, which RRL exempts by default. --rrl makes every
    # answer pass through the limiter, with a limit no run reaches: what is
    # measured is the limiter's bookkeeping, not dropped answers.
    rrl = "rrl_exempt = []\nrrl_limit = 1000000000\n" if WITH_RRL else ""
    config.write_text(
        f'data_dir = "data"\n[dns]\nlisten = ["127.0.0.1:{port}"]\n{rrl}{http}'
        f'[[zone]]\nname = "{ZONE}"\nfile = "{zone_file}"\n'
    )
    return start_dynzone(config, workdir, port)


def servers_available() -> list[str]:
    kinds = ["dynzone"]
    if find_binary("nsd"):
        kinds.append("nsd")
    else:
        sys.exit("nsd is not installed: run sudo scripts/install-peers.sh")
    if find_binary("knotd"):
        kinds.append("knot")
    return kinds


def dnsperf(
    port: int, queries: Path, seconds: int, clients: int, once: bool = False
) -> dict[str, float]:
    """Run dnsperf for ``seconds``, or through the query file exactly once."""
    exe = find_binary("dnsperf")
    if exe is None:
        sys.exit("dnsperf is not installed: run sudo scripts/install-peers.sh")
    argv = [
        exe,
        "-s",
        "127.0.0.1",
        "-p",
        str(port),
        "-d",
        str(queries),
        "-c",
        str(clients),
        "-T",
        "1",
        "-q",
        "200",
        "-t",
        "2",
    ]
    argv += ["-n", "1"] if once else ["-l", str(seconds)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120)
    text = result.stdout
    qps = re.search(r"Queries per second:\s+([\d.]+)", text)
    lost = re.search(r"Queries lost:\s+(\d+)", text)
    sent = re.search(r"Queries sent:\s+(\d+)", text)
    latency = re.search(r"Average Latency \(s\):\s+([\d.]+)", text)
    if not qps:
        raise RuntimeError(f"dnsperf output not understood:\n{text}\n{result.stderr}")
    return {
        "qps": float(qps.group(1)),
        "sent": float(sent.group(1)) if sent else 0.0,
        "lost": float(lost.group(1)) if lost else 0.0,
        "avg_latency_ms": float(latency.group(1)) * 1000 if latency else 0.0,
    }


def bench_qps(seconds: int, rounds: int) -> dict[str, object]:
    kinds = servers_available()
    results: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    first_pass: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory(prefix="dynzone-bench-") as tmp:
        tmpdir = Path(tmp)
        zone = tmpdir / f"{ZONE}.zone"
        write_qps_zone(zone)
        queries = tmpdir / "queries.txt"
        mix = write_queries(queries)
        # Interleave the servers round by round so drift in machine load hits all alike.
        for r in range(rounds):
            for kind in kinds:
                server = start(kind, zone, tmpdir / f"{kind}-{r}")
                try:
                    wait_for_soa(server, ZONE, timeout=60)
                    # The first pass through the file meets every name for the first
                    # time (dynzone renders and caches each answer); reported apart.
                    first_pass[kind].append(dnsperf(server.port, queries, seconds, 1, once=True))
                    results[kind].append(dnsperf(server.port, queries, seconds, 1))
                finally:
                    server.stop()
    best = {k: max(v, key=lambda x: x["qps"]) for k, v in results.items()}
    cold = {k: max(v, key=lambda x: x["qps"]) for k, v in first_pass.items()}
    summary: dict[str, object] = {
        "query_mix": mix,
        "seconds": seconds,
        "rounds": rounds,
        "runs": results,
        "first_pass_runs": first_pass,
        "best": best,
        "best_first_pass": cold,
    }
    print(f"\nqueries/second, best of {rounds} rounds (dnsperf, 1 client, 200 in flight, UDP)")
    print(f"  query mix of the {sum(mix.values())}-query file: {mix}")
    print(
        f"  {'':8s} {'steady state':>14s} {'first pass':>12s}   (steady: {seconds}s runs after"
        " one pass through the file)"
    )
    for kind in kinds:
        b, c = best[kind], cold[kind]
        print(
            f"  {kind:8s} {b['qps']:>10.0f} qps {c['qps']:>10.0f} qps   lost {b['lost']:.0f}"
            f"  avg latency {b['avg_latency_ms']:.2f} ms"
        )
    ratio = best["dynzone"]["qps"] / best["nsd"]["qps"]
    summary["ratio_dynzone_nsd"] = ratio
    summary["ratio_dynzone_nsd_first_pass"] = cold["dynzone"]["qps"] / cold["nsd"]["qps"]
    print(
        f"  ratio dynzone/NSD: {ratio:.2f} steady state,"
        f" {summary['ratio_dynzone_nsd_first_pass']:.2f} first pass"
    )
    if "knot" in best:
        summary["ratio_dynzone_knot"] = best["dynzone"]["qps"] / best["knot"]["qps"]
        print(f"  ratio dynzone/Knot: {summary['ratio_dynzone_knot']:.2f}")
    return summary


def write_big_zone(path: Path, records: int) -> None:
    """``records`` A/AAAA/TXT records under distinct names, for the memory test."""
    with path.open("w") as fh:
        fh.write(
            f"$ORIGIN {ZONE}.\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n"
            "@ NS ns1\nns1 A 192.0.2.1\n"
        )
        for i in range(records - 3):
            kind = i % 4
            if kind < 2:
                fh.write(f"h{i} A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n")
            elif kind == 2:
                fh.write(f"h{i} AAAA 2001:db8::{i >> 16:x}:{i & 0xFFFF:x}\n")
            else:
                fh.write(f'h{i} TXT "record {i}"\n')


def tree_memory_kib(pid: int) -> dict[str, int]:
    """RSS and PSS of a process and its children (NSD forks), from /proc."""
    pids = [pid]
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        pids += [int(p) for p in out.split()]
    except OSError:
        pass
    rss = pss = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return {"rss_kib": rss, "pss_kib": pss, "processes": len(pids)}


def bench_memory(records: int) -> dict[str, object]:
    kinds = servers_available()
    out: dict[str, object] = {"records": records}
    with tempfile.TemporaryDirectory(prefix="dynzone-bench-mem-") as tmp:
        tmpdir = Path(tmp)
        zone = tmpdir / f"{ZONE}.zone"
        write_big_zone(zone, records)
        size_mib = zone.stat().st_size / 2**20
        out["zone_file_mib"] = round(size_mib, 1)
        print(f"\n{records:,} records ({size_mib:.0f} MiB zone file): load time and memory")
        for kind in kinds:
            t0 = time.monotonic()
            server = start(kind, zone, tmpdir / kind)
            try:
                wait_for_soa(server, ZONE, timeout=900)
                load = time.monotonic() - t0
                time.sleep(1)
                mem = tree_memory_kib(server.proc.pid)
            finally:
                server.stop()
            out[kind] = {"load_seconds": round(load, 1), **mem}
            print(
                f"  {kind:8s} load {load:6.1f} s   RSS {mem['rss_kib'] / 1024:7.0f} MiB"
                f"   PSS {mem['pss_kib'] / 1024:7.0f} MiB ({mem['processes']} processes)"
            )
        dz, nsd = out["dynzone"], out["nsd"]
        assert isinstance(dz, dict) and isinstance(nsd, dict)
        out["ratio_memory_dynzone_nsd"] = dz["pss_kib"] / max(nsd["pss_kib"], 1)
        out["ratio_load_dynzone_nsd"] = dz["load_seconds"] / max(nsd["load_seconds"], 0.1)
        print(
            f"  ratio dynzone/NSD: memory (PSS) {out['ratio_memory_dynzone_nsd']:.1f}x, "
            f"load time {out['ratio_load_dynzone_nsd']:.1f}x"
        )
    return out


def save_results(kind: str, results: object) -> Path:
    """Write ``results`` as JSON to bench/results/KIND-STAMP.json (not committed)."""
    outdir = ROOT / "bench" / "results"
    outdir.mkdir(exist_ok=True)
    out = outdir / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["qps", "memory", "all"], nargs="?", default="qps")
    parser.add_argument("--seconds", type=int, default=10, help="length of each dnsperf run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per server (best is kept)")
    parser.add_argument("--records", type=int, default=1_000_000, help="size of the memory zone")
    parser.add_argument(
        "--http",
        action="store_true",
        help="give dynzone an HTTP listener, so that /metrics counts every query",
    )
    parser.add_argument(
        "--rrl",
        action="store_true",
        help="make dynzone rate-limit loopback too (with a limit never reached)",
    )
    args = parser.parse_args()
    global WITH_HTTP, WITH_RRL
    WITH_HTTP, WITH_RRL = args.http, args.rrl
    results: dict[str, object] = {"dynzone_http": args.http, "dynzone_rrl": args.rrl}
    if args.what in ("qps", "all"):
        results["qps"] = bench_qps(args.seconds, args.rounds)
    if args.what in ("memory", "all"):
        results["memory"] = bench_memory(args.records)
    save_results(args.what, results)
    return 0


if __name__ == "__main__":
    if shutil.which("dnsperf") is None and find_binary("dnsperf") is None:
        sys.exit("dnsperf is not installed: run sudo scripts/install-peers.sh")
    raise SystemExit(main())
