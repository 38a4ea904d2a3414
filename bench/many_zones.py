#!/usr/bin/env python3
"""Many small zones: start time and memory, dynzone beside NSD and Knot.

    python3 bench/many_zones.py [--zones 10000] [--records 20] [--rounds 1]

Each server gets the same ``--zones`` zone files (``z0.many.test`` ...), each
of ``--records`` records (SOA, NS, hosts with A and some AAAA and TXT), and
is timed from its start to an authoritative answer for the last zone's SOA;
then its memory is read (RSS; NSD's processes summed). dynzone imports the
files into its store on the first start and loads them from the store on a
restart, so it is measured both ways. Every round is printed, then the best
with dynzone's ratios to NSD, and the per-zone figures (time and memory
divided by the number of zones). Results go to bench/results/.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import save_results  # noqa: E402
from tests.peers import (  # noqa: E402
    Server,
    find_binary,
    free_port,
    start_dynzone,
    start_knot,
    start_nsd,
    wait_for_soa,
)

KINDS = ["dynzone", "nsd", "knot"]


def zone_name(i: int) -> str:
    return f"z{i}.many.test"


def write_zones(folder: Path, zones: int, records: int) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for i in range(zones):
        name = zone_name(i)
        lines = [f"$ORIGIN {name}.", "$TTL 300", "@ SOA ns1 h 1 3600 600 86400 60", "@ NS ns1"]
        lines.append(f"ns1 A 10.{i >> 8 & 255}.{i & 255}.1")
        h = 0
        while len(lines) - 2 < records:
            lines.append(f"h{h} A 10.{i >> 8 & 255}.{i & 255}.{h % 250 + 2}")
            if h % 3 == 0 and len(lines) - 2 < records:
                lines.append(f"h{h} AAAA 2001:db8:{i:x}::{h:x}")
            if h % 5 == 0 and len(lines) - 2 < records:
                lines.append(f'h{h} TXT "host {h} of zone {i}"')
            h += 1
        path = folder / f"{name}.zone"
        path.write_text("\n".join(lines) + "\n")
        out[name] = path
    return out


def start(kind: str, zones: dict[str, Path], workdir: Path) -> Server:
    if kind == "nsd":
        return start_nsd(zones, workdir)
    if kind == "knot":
        return start_knot(zones, workdir)
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "dynzone.toml"
    text = f'data_dir = "data"\n[dns]\nlisten = ["127.0.0.1:{port}"]\n'
    text += "".join(f'[[zone]]\nname = "{n}"\nfile = "{p}"\n' for n, p in zones.items())
    config.write_text(text)
    return start_dynzone(config, workdir, port)


def rss_mib(server: Server) -> float:
    """Resident memory of the server and its child processes, in MiB."""
    pids = [server.proc.pid]
    children = subprocess.run(
        ["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True
    ).stdout.split()
    pids += [int(p) for p in children]
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def measure(kind: str, zones: dict[str, Path], workdir: Path) -> tuple[float, float]:
    """Seconds from start to the last zone's answer, and RSS then."""
    last = zone_name(len(zones) - 1)
    started = time.monotonic()
    server = start(kind, zones, workdir)
    try:
        wait_for_soa(server, last, timeout=1800)
        took = time.monotonic() - started
        return took, rss_mib(server)
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zones", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    for tool in ("nsd", "knotd"):
        if find_binary(tool) is None:
            sys.exit(f"{tool} is not installed: run sudo scripts/install-peers.sh")
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="dynzone-many-") as tmp:
        zones = write_zones(Path(tmp) / "zones", args.zones, args.records)
        for r in range(args.rounds):
            for kind in KINDS[r % 3 :] + KINDS[: r % 3]:
                workdir = Path(tmp) / f"{kind}-{r}"
                took, rss = measure(kind, zones, workdir)
                results.append({"server": kind, "round": r + 1, "seconds": took, "rss_mib": rss})
                print(f"  round {r + 1}, {kind:7s}: {took:.2f} s to the last zone, {rss:.0f} MiB")
                if kind == "dynzone":
                    took, rss = measure(kind, zones, workdir)  # the same store again
                    row = {"server": "dynzone restart", "round": r + 1, "seconds": took,
                           "rss_mib": rss}  # fmt: skip
                    results.append(row)
                    print(f"  round {r + 1}, dynzone restart: {took:.2f} s, {rss:.0f} MiB")
    n = args.zones
    print(f"\n{n} zones of {args.records} records (best round)")
    best: dict[str, tuple[float, float]] = {}
    for kind in ["dynzone", "dynzone restart", "nsd", "knot"]:
        rows = [x for x in results if x["server"] == kind]
        took = min(float(x["seconds"]) for x in rows)  # type: ignore[arg-type]
        rss = min(float(x["rss_mib"]) for x in rows)  # type: ignore[arg-type]
        best[kind] = (took, rss)
        print(
            f"  {kind:16s} {took:8.2f} s ({1000 * took / n:.2f} ms a zone)"
            f" {rss:8.0f} MiB ({1024 * rss / n:.1f} KiB a zone)"
        )
    nsd_t, nsd_m = best["nsd"]
    for kind in ("dynzone", "dynzone restart"):
        t, m = best[kind]
        print(f"  {kind}/NSD: start {t / nsd_t:.2f}, RSS {m / nsd_m:.2f}")
    save_results("many-zones", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
