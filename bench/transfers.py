#!/usr/bin/env python3
"""Zone transfers: AXFR time, and queries while AXFRs run, dynzone beside NSD and Knot.

    python3 bench/transfers.py [--records 100000] [--rounds 3] [--seconds 5]

Every server serves the same zone file, ``xfr.test``, of about ``--records``
records (hosts with A, some AAAA, TXT and MX, CNAME aliases, delegations
with glue) and allows unsigned transfers to 127.0.0.1. Per server and
round:

* ``kdig +tcp AXFR`` from start to its last message, and the records it got;
* dnsperf asking for existing names once through its file (dynzone caches
  the answers it renders), then for ``--seconds`` alone, then again while
  kdig runs AXFRs one after another: QPS during over QPS alone.

Rounds rotate the servers' order; every round is printed, then a table with
the best round and dynzone's ratios to NSD. Results go to bench/results/.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import dnsperf, save_results  # noqa: E402
from tests.peers import (  # noqa: E402
    Server,
    find_binary,
    free_port,
    start_dynzone,
    start_knot,
    start_nsd,
    wait_for_soa,
)

ZONE = "xfr.test"
KINDS = ["dynzone", "nsd", "knot"]


def write_zone(path: Path, records: int) -> tuple[int, int]:
    """About ``records`` records of the usual kinds; returns the exact count, and
    the number of hosts (named ``h0`` ... in order)."""
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
    ]
    i = 0
    while len(lines) - 2 < records:
        octets = f"{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
        lines.append(f"h{i} A 10.{octets}")
        if i % 4 == 0:
            lines.append(f"h{i} AAAA 2001:db8::{i >> 16:x}:{i & 0xFFFF:x}")
        if i % 10 == 0:
            lines.append(f'h{i} TXT "host {i} v=spf1 -all"')
            lines.append(f"alias{i} CNAME h{i}")
        if i % 20 == 0:
            lines.append(f"h{i} MX 10 mail")
        if i % 100 == 0:
            lines.append(f"d{i} NS ns.d{i}")
            lines.append(f"ns.d{i} A 10.{octets}")
        i += 1
    path.write_text("\n".join(lines) + "\n")
    return len(lines) - 2, i  # less $ORIGIN and $TTL


def write_queries(path: Path, hosts: int, count: int = 50_000, seed: int = 5936) -> None:
    rng = random.Random(seed)
    path.write_text("".join(f"h{rng.randrange(hosts)}.{ZONE} A\n" for _ in range(count)))


def start(kind: str, zone_file: Path, workdir: Path) -> Server:
    zones = {ZONE: zone_file}
    if kind == "nsd":
        return start_nsd(zones, workdir, axfr=True)
    if kind == "knot":
        return start_knot(zones, workdir, axfr=True)
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "dynzone.toml"
    config.write_text(
        f'data_dir = "data"\n[dns]\nlisten = ["127.0.0.1:{port}"]\n'
        f'[[zone]]\nname = "{ZONE}"\nfile = "{zone_file}"\nallow_transfer = ["127.0.0.1/32"]\n'
    )
    return start_dynzone(config, workdir, port)


def axfr(port: int, out: Path) -> tuple[float, int]:
    """Seconds for one AXFR by kdig, and the records it printed."""
    kdig = find_binary("kdig")
    assert kdig is not None
    argv = [kdig, "-p", str(port), "@127.0.0.1", "+tcp", "+noall", "+answer", "AXFR", ZONE]
    started = time.monotonic()
    with out.open("wb") as fh:
        subprocess.run(argv, stdout=fh, stderr=subprocess.DEVNULL, timeout=600, check=True)
    took = time.monotonic() - started
    with out.open("rb") as fh:
        records = sum(1 for line in fh if line.strip() and not line.startswith(b";"))
    return took, records


def qps_during_axfrs(port: int, queries: Path, seconds: int, out: Path) -> tuple[float, int]:
    """dnsperf QPS while kdig runs AXFRs one after another; and how many ran."""
    stop = threading.Event()
    done = [0]

    def transfers() -> None:
        while not stop.is_set():
            axfr(port, out)
            done[0] += 1

    thread = threading.Thread(target=transfers)
    thread.start()
    try:
        time.sleep(0.2)  # the first transfer is under way
        qps = dnsperf(port, queries, seconds, 1)["qps"]
    finally:
        stop.set()
        thread.join()
    return qps, done[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    for tool in ("kdig", "dnsperf", "nsd", "knotd"):
        if find_binary(tool) is None:
            sys.exit(f"{tool} is not installed: run sudo scripts/install-peers.sh")
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="dynzone-xfr-") as tmp:
        zone_file = Path(tmp) / "xfr.zone"
        count, _ = write_zone(zone_file, args.records)
        queries = Path(tmp) / "queries.txt"
        write_queries(queries, hosts=count // 2)
        for r in range(args.rounds):
            order = KINDS[r % 3 :] + KINDS[: r % 3]
            for kind in order:
                server = start(kind, zone_file, Path(tmp) / f"{kind}-{r}")
                try:
                    wait_for_soa(server, ZONE, timeout=600)
                    out = Path(tmp) / f"axfr-{kind}.txt"
                    took, got = axfr(server.port, out)
                    dnsperf(server.port, queries, args.seconds, 1, once=True)  # warm caches
                    alone = dnsperf(server.port, queries, args.seconds, 1)["qps"]
                    during, runs = qps_during_axfrs(server.port, queries, args.seconds, out)
                finally:
                    server.stop()
                row = {
                    "server": kind, "round": r + 1, "records": count, "axfr_seconds": took,
                    "axfr_records": got, "qps_alone": alone, "qps_during": during,
                    "axfrs_during": runs, "ratio": during / alone if alone else float("nan"),
                }  # fmt: skip
                results.append(row)
                print(
                    f"  round {r + 1}, {kind:7s}: AXFR {took:.2f} s ({got} records);"
                    f" queries {alone:.0f}/s alone, {during:.0f}/s during {runs} AXFRs"
                    f" = {row['ratio']:.2f}",
                    flush=True,
                )
    print(f"\n{count} records (best round; every round in brackets)")
    print(f"{'server':8s} {'AXFR s':>24s} {'QPS during / alone':>32s}")
    best: dict[str, tuple[float, float]] = {}
    for kind in KINDS:
        rows = [x for x in results if x["server"] == kind]
        times = [float(x["axfr_seconds"]) for x in rows]  # type: ignore[arg-type]
        ratios = [float(x["ratio"]) for x in rows]  # type: ignore[arg-type]
        best[kind] = (min(times), max(ratios))
        print(
            f"{kind:8s} {min(times):6.2f} ({' / '.join(f'{t:.2f}' for t in times)})"
            f" {max(ratios):10.2f} ({' / '.join(f'{x:.2f}' for x in ratios)})"
        )
    print(
        f"dynzone/NSD: AXFR time {best['dynzone'][0] / best['nsd'][0]:.2f};"
        f" dynzone/Knot: {best['dynzone'][0] / best['knot'][0]:.2f}"
    )
    save_results("transfers", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
