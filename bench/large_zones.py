#!/usr/bin/env python3
"""Large zones: start, memory, transfers, cold answers and updates, dynzone beside NSD and Knot.

    python3 bench/large_zones.py [--records 100000,1000000] [--rounds 3] [--seconds 5]

Every server serves the same zone file, ``xfr.test`` (``transfers.py``'s:
hosts with A, some AAAA, TXT and MX, CNAME aliases, delegations with glue),
on 127.0.0.1 on a free port, one server at a time. Per size, server and
round:

* **first start**: a fresh working directory (dynzone imports the file into
  its store), seconds to the first authoritative SOA answer; **restart**:
  stopped and started again on the same directory (dynzone from its store);
* **RSS** of the server's processes after the restart, and again at the end;
* **cold QPS**: right after the restart, dnsperf asks for up to 200,000
  distinct existing host names once each (nothing cached yet);
* **AXFR** by ``kdig`` (seconds), then, after two passes over the names to
  warm caches, QPS over existing names alone and while AXFRs run one after
  another (``transfers.py``);
* **updates** (dynzone and Knot; NSD takes none): 10 TSIG-signed UPDATEs a
  second, each replacing a random host's A record, from a separate process
  (``updating.py``'s updater) while dnsperf runs: how many were answered,
  p50/p99, and QPS during over QPS alone.

Rounds rotate the servers' order. Every round is printed, then one table per
size (best round, every round in brackets) and dynzone's ratios to NSD and
Knot. Results go to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import dnsperf, save_results  # noqa: E402
from bench.many_zones import rss_mib  # noqa: E402
from bench.transfers import ZONE, axfr, qps_during_axfrs, write_zone  # noqa: E402
from bench.updating import KEY_NAME, KEY_SECRET  # noqa: E402
from tests.peers import (  # noqa: E402
    Server,
    TsigSecret,
    find_binary,
    free_port,
    start_dynzone,
    start_knot,
    start_nsd,
    wait_for_soa,
)

KINDS = ["dynzone", "nsd", "knot"]
COLD_NAMES = 200_000
UPDATE_RATE = 10


def write_names(path: Path, hosts: int, count: int, seed: int) -> None:
    """``count`` existing host names (all distinct while there are enough), shuffled."""
    rng = random.Random(seed)
    picked = rng.sample(range(hosts), min(count, hosts))
    path.write_text("".join(f"h{i}.{ZONE} A\n" for i in picked))


def start(kind: str, zone_file: Path, workdir: Path) -> Server:
    """A server of ``kind`` on ``workdir`` (the same directory again: a restart)."""
    zones = {ZONE: zone_file}
    key = TsigSecret(KEY_NAME, "hmac-sha256", KEY_SECRET)
    if kind == "nsd":
        return start_nsd(zones, workdir, axfr=True)
    if kind == "knot":
        return start_knot(zones, workdir, update_key=key, updatable=(ZONE,), axfr=True)
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "dynzone.toml"
    port = free_port()
    config.write_text(
        f'data_dir = "data"\n[dns]\nlisten = ["127.0.0.1:{port}"]\n'
        f'[[zone]]\nname = "{ZONE}"\nfile = "{zone_file}"\nallow_transfer = ["127.0.0.1/32"]\n'
    )
    if not (workdir / "data").exists():
        argv = [sys.executable, "-m", "dynzone", "key", "add", KEY_NAME, "--config", str(config)]
        argv += ["--grant", f"*.{ZONE} A", "--secret", KEY_SECRET]
        subprocess.run(argv, check=True, capture_output=True, cwd=workdir)
    return start_dynzone(config, workdir, port)


def timed_start(kind: str, zone_file: Path, workdir: Path) -> tuple[Server, float]:
    started = time.monotonic()
    server = start(kind, zone_file, workdir)
    try:
        wait_for_soa(server, ZONE, timeout=1800)
    except BaseException:
        server.stop()
        raise
    return server, time.monotonic() - started


def updates_during_queries(
    port: int, queries: Path, seconds: int, hosts: int
) -> tuple[float, dict[str, object]]:
    """dnsperf QPS while the updater sends ``UPDATE_RATE`` UPDATEs a second."""
    argv = [sys.executable, str(ROOT / "bench" / "updating.py"), "--updater", str(port)]
    argv += [str(UPDATE_RATE), str(seconds), str(random.randrange(10**6)), ZONE, str(hosts)]
    updater = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    assert updater.stdout is not None
    if updater.stdout.readline().strip() != "ready":
        raise RuntimeError("the updater did not start")
    qps = dnsperf(port, queries, seconds, 1)["qps"]
    text, _ = updater.communicate(timeout=seconds + 60)
    return qps, json.loads(text)


def measure(
    kind: str, zone_file: Path, hosts: int, names: Path, workdir: Path, seconds: int
) -> dict[str, object]:
    row: dict[str, object] = {"server": kind}
    server, row["first_start_s"] = timed_start(kind, zone_file, workdir)
    server.stop()
    server, row["restart_s"] = timed_start(kind, zone_file, workdir)
    try:
        row["rss_mib"] = rss_mib(server)
        row["cold_qps"] = dnsperf(server.port, names, seconds, 1, once=True)["qps"]
        took, got = axfr(server.port, workdir / "axfr.txt")
        row["axfr_s"], row["axfr_records"] = took, got
        dnsperf(server.port, names, seconds, 1, once=True)  # warm: dynzone caches what is
        dnsperf(server.port, names, seconds, 1, once=True)  # asked again
        alone = dnsperf(server.port, names, seconds, 1)["qps"]
        during, runs = qps_during_axfrs(server.port, names, seconds, workdir / "axfr.txt")
        row.update(qps_alone=alone, qps_during_axfrs=during, axfrs=runs)
        row["axfr_qps_ratio"] = during / alone if alone else float("nan")
        if kind != "nsd":
            alone = dnsperf(server.port, names, seconds, 1)["qps"]
            during, updates = updates_during_queries(server.port, names, seconds * 2, hosts)
            row.update(update_qps_alone=alone, update_qps_during=during, updates=updates)
            row["update_qps_ratio"] = during / alone if alone else float("nan")
        row["rss_end_mib"] = rss_mib(server)
    finally:
        server.stop()
    return row


def describe(row: dict[str, object]) -> str:
    text = (
        f"start {row['first_start_s']:.2f} s, restart {row['restart_s']:.2f} s,"
        f" RSS {row['rss_mib']:.0f}/{row['rss_end_mib']:.0f} MiB,"
        f" cold {row['cold_qps']:,.0f} qps, AXFR {row['axfr_s']:.2f} s"
        f" ({row['axfr_records']} records), QPS during AXFRs {row['axfr_qps_ratio']:.2f}"
    )
    upd = row.get("updates")
    if isinstance(upd, dict):
        p50, p99 = upd.get("p50_ms"), upd.get("p99_ms")
        text += (
            f", updates {upd['answered']}/{upd['sent']} answered"
            f" p50 {p50 if p50 is None else round(p50, 1)} ms"
            f" p99 {p99 if p99 is None else round(p99, 1)} ms,"
            f" QPS during updates {row['update_qps_ratio']:.2f}"
        )
    return text


# What each table row shows, and whether lower is better.
FIELDS = [
    ("first start, s", "first_start_s", True),
    ("restart to first answer, s", "restart_s", True),
    ("RSS after restart, MiB", "rss_mib", True),
    ("RSS at the end, MiB", "rss_end_mib", True),
    ("AXFR, s", "axfr_s", True),
    ("QPS during AXFRs / alone", "axfr_qps_ratio", False),
    ("cold QPS, distinct existing names", "cold_qps", False),
    ("QPS during 10 updates/s / alone", "update_qps_ratio", False),
]


def table(records: int, rows: list[dict[str, object]]) -> dict[str, dict[str, float]]:
    """Print the table for one size; return the best figure per server and field."""
    print(f"\n{records:,} records (best round; every round in brackets)")
    print("| | " + " | ".join(KINDS) + " | dynzone/NSD | dynzone/Knot |")
    print("|---|" + "---|" * (len(KINDS) + 2))
    best: dict[str, dict[str, float]] = {k: {} for k in KINDS}
    for label, field, lower in FIELDS:
        cells = []
        for kind in KINDS:
            vals = [float(r[field]) for r in rows if r["server"] == kind and field in r]  # type: ignore[arg-type]
            if not vals:
                cells.append("—")
                continue
            best[kind][field] = min(vals) if lower else max(vals)
            each = " / ".join(f"{v:,.2f}" if v < 100 else f"{v:,.0f}" for v in vals)
            cells.append(f"{best[kind][field]:,.2f} ({each})")
        ratios = []
        for other in ("nsd", "knot"):
            a, b = best["dynzone"].get(field), best[other].get(field)
            ratios.append(f"{a / b:.2f}" if a is not None and b else "—")
        print(f"| {label} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    for kind in ("dynzone", "knot"):
        for r in rows:
            upd = r.get("updates")
            if r["server"] == kind and isinstance(upd, dict):
                print(
                    f"  {kind} updates: {upd['answered']}/{upd['sent']} answered,"
                    f" p50 {upd['p50_ms']} ms, p99 {upd['p99_ms']} ms, max {upd['max_ms']} ms,"
                    f" failures {upd['failures']}"
                )
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="100000,1000000", help="zone sizes, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="length of each dnsperf run")
    parser.add_argument("--servers", default=",".join(KINDS), help="which servers, comma-separated")
    args = parser.parse_args()
    for tool in ("kdig", "dnsperf", "nsd", "knotd"):
        if find_binary(tool) is None:
            sys.exit(f"{tool} is not installed: run sudo scripts/install-peers.sh")
    kinds = [k for k in KINDS if k in args.servers.split(",")]
    results: list[dict[str, object]] = []
    for records in [int(x) for x in args.records.split(",")]:
        with tempfile.TemporaryDirectory(prefix="dynzone-large-") as tmp:
            zone_file = Path(tmp) / "large.zone"
            count, hosts = write_zone(zone_file, records)
            names = Path(tmp) / "names.txt"
            write_names(names, hosts, COLD_NAMES, seed=records)
            print(f"{count:,} records, {hosts:,} hosts", flush=True)
            rows = []
            for r in range(args.rounds):
                order = kinds[r % len(kinds) :] + kinds[: r % len(kinds)]
                for kind in order:
                    row = measure(
                        kind, zone_file, hosts, names, Path(tmp) / f"{kind}-{r}", args.seconds
                    )
                    row.update(round=r + 1, records=count)
                    rows.append(row)
                    print(f"  round {r + 1}, {kind:7s}: {describe(row)}", flush=True)
            table(count, rows)
            results += rows
    save_results("large_zones", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
