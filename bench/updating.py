#!/usr/bin/env python3
"""Queries while updating: dynzone beside Knot (DDNS), both answering queries while a
paced client sends TSIG-signed RFC 2136 UPDATEs.

    python3 bench/updating.py [--rounds 3] [--seconds 10] [--rates 0,10,50,200]

Both servers serve the same two zones: ``bench.test`` (the 10,000-host zone
of ``compare.py qps``) and ``dyn.test`` (1,000 hosts), on 127.0.0.1 on a free
port. dnsperf plays a query file that mixes ``compare.py``'s kinds of
answers in ``bench.test`` (90%) with questions about ``dyn.test`` (10%:
hosts' A records, NODATA and NXDOMAIN). Meanwhile an updater (a separate
process) sends UPDATEs at a fixed rate, each replacing the A record of a
random ``dyn.test`` host, signed with hmac-sha256, and times each reply.

For every update rate the table shows queries per second for both servers
and dynzone's ratio to its own QPS without updates and to Knot's under the
same load, with the updates' latency. Rounds alternate the servers so that
drift in machine load hits both alike; every round's figures are printed.
Results go to bench/results/ as JSON.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import dnsperf, write_qps_zone, write_queries  # noqa: E402
from tests.peers import (  # noqa: E402
    Server,
    TsigSecret,
    find_binary,
    free_port,
    start_dynzone,
    start_knot,
    wait_for_soa,
)

STATIC = "bench.test"
DYN = "dyn.test"
DYN_HOSTS = 1000
KEY_NAME = "bench-update"
KEY_SECRET = base64.b64encode(b"dynzone-bench-update-secret-32b!").decode()


def write_dyn_zone(path: Path) -> None:
    lines = [
        f"$ORIGIN {DYN}.",
        "$TTL 60",
        "@ SOA ns1 hostmaster 1 3600 600 86400 60",
        "@ NS ns1",
        "ns1 A 192.0.2.1",
    ]
    lines += [f"h{i} A 10.1.{i >> 8 & 255}.{i & 255}" for i in range(DYN_HOSTS)]
    path.write_text("\n".join(lines) + "\n")


def write_mixed_queries(path: Path, seed: int = 2136) -> dict[str, int]:
    """compare.py's query mix for bench.test, with 10% of questions about dyn.test."""
    static = path.with_suffix(".static")
    kinds = write_queries(static)
    rng = random.Random(seed)
    out = []
    for line in static.read_text().splitlines():
        roll = rng.random()
        if roll < 0.07:
            out.append(f"h{rng.randrange(DYN_HOSTS)}.{DYN} A")
            kinds["dyn_host"] = kinds.get("dyn_host", 0) + 1
        elif roll < 0.09:
            out.append(f"h{rng.randrange(DYN_HOSTS)}.{DYN} AAAA")
            kinds["dyn_nodata"] = kinds.get("dyn_nodata", 0) + 1
        elif roll < 0.10:
            out.append(f"nx{rng.randrange(DYN_HOSTS)}.{DYN} A")
            kinds["dyn_nxdomain"] = kinds.get("dyn_nxdomain", 0) + 1
        else:
            out.append(line)
    path.write_text("\n".join(out) + "\n")
    return kinds


def start_knot_ddns(zones: dict[str, Path], workdir: Path) -> Server:
    """Knot serving ``zones``, taking UPDATEs to dyn.test signed with the bench key.

    Changes are kept durably in Knot's journal (not written back to the zone
    file), as dynzone keeps them in its store.
    """
    key = TsigSecret(KEY_NAME, "hmac-sha256", KEY_SECRET)
    return start_knot(zones, workdir, update_key=key, updatable=(DYN,))


def start_dynzone_ddns(zones: dict[str, Path], workdir: Path) -> Server:
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "dynzone.toml"
    text = f'data_dir = "data"\n[dns]\nlisten = ["127.0.0.1:{port}"]\n'
    for name, path in zones.items():
        text += f'[[zone]]\nname = "{name}"\nfile = "{path}"\n'
    config.write_text(text)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "dynzone",
            "key",
            "add",
            KEY_NAME,
            "--config",
            str(config),
            "--grant",
            f"*.{DYN} A",
            "--secret",
            KEY_SECRET,
        ],
        check=True,
        capture_output=True,
        cwd=workdir,
    )
    return start_dynzone(config, workdir, port)


# -- the updater (runs in a process of its own) -----------------------------------


def run_updater(
    port: int, rate: float, seconds: float, seed: int, zone: str = DYN, hosts: int = DYN_HOSTS
) -> dict[str, object]:
    """Send ``rate`` UPDATEs a second for ``seconds`` from one UDP socket, each
    replacing the A record of a random host ``h0`` ... of ``zone``, and time
    each reply.

    Every message is built and signed before the run starts (their signing
    times stay well inside the TSIG fudge of 300 s), and "ready" is printed;
    during the run one thread only sends, paced by the clock, and another only
    receives, so the client takes as little as possible of the CPU the server
    under test shares with it.
    """
    import socket
    import threading

    import dns.rcode
    import dns.tsigkeyring
    import dns.update

    keyring = dns.tsigkeyring.from_text({KEY_NAME: ("hmac-sha256", KEY_SECRET)})
    rng = random.Random(seed)
    count = int(rate * seconds)
    wires = []
    for i in range(count):
        update = dns.update.UpdateMessage(zone, keyring=keyring, keyalgorithm="hmac-sha256")
        update.id = i & 0xFFFF
        update.replace(f"h{rng.randrange(hosts)}", 60, "A", f"10.2.{i >> 8 & 255}.{i & 255}")
        wires.append(update.to_wire())
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", port))
    sock.settimeout(0.5)
    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    failures: dict[str, int] = {}
    sending = True

    def receive() -> None:
        while sending or sent_at:
            try:
                data = sock.recv(4096)
            except TimeoutError:
                if not sending:
                    return
                continue
            start = sent_at.pop(int.from_bytes(data[:2], "big"), None)
            if start is None:
                continue
            rcode = data[3] & 0x0F
            if rcode != dns.rcode.NOERROR:
                why = f"rcode {dns.rcode.to_text(dns.rcode.Rcode.make(rcode))}"
                failures[why] = failures.get(why, 0) + 1
            else:
                latencies.append(time.perf_counter() - start)

    receiver = threading.Thread(target=receive)
    receiver.start()
    print("ready", flush=True)
    begin = time.perf_counter()
    for i, wire in enumerate(wires):
        delay = begin + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sent_at[i & 0xFFFF] = time.perf_counter()
        sock.send(wire)
    deadline = time.perf_counter() + 5
    while sent_at and time.perf_counter() < deadline:
        time.sleep(0.05)
    sending = False
    receiver.join()
    if sent_at:
        failures["no reply within 5 s"] = len(sent_at)
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "sent": count,
        "answered": len(latencies),
        "failures": failures,
        "p50_ms": pct(0.50) if latencies else None,
        "p99_ms": pct(0.99) if latencies else None,
        "max_ms": latencies[-1] * 1000 if latencies else None,
    }


# -- the benchmark ------------------------------------------------------------------


def measure(
    kind: str, zones: dict[str, Path], queries: Path, workdir: Path, rates: list[int], seconds: int
) -> dict[int, dict[str, object]]:
    """Start one server, warm it up, then run dnsperf at each update rate."""
    server = (start_dynzone_ddns if kind == "dynzone" else start_knot_ddns)(zones, workdir)
    out: dict[int, dict[str, object]] = {}
    try:
        for zone in zones:
            wait_for_soa(server, zone, timeout=120)
        dnsperf(server.port, queries, seconds, 1, once=True)  # warm up (dynzone's caches)
        for rate in rates:
            updater = None
            if rate:
                argv = [sys.executable, __file__, "--updater", str(server.port), str(rate)]
                argv += [str(seconds), str(random.randrange(10**6))]
                updater = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
                assert updater.stdout is not None
                if updater.stdout.readline().strip() != "ready":
                    raise RuntimeError("the updater did not start")
            perf = dnsperf(server.port, queries, seconds, 1)
            stats: dict[str, object] = {"qps": perf["qps"], "lost": perf["lost"]}
            if updater is not None:
                text, _ = updater.communicate(timeout=seconds + 60)
                stats["updates"] = json.loads(text)
            out[rate] = stats
            print(f"    {kind:8s} {rate:4d} updates/s: {_cell(stats)}", flush=True)
    finally:
        server.stop()
    return out


def _cell(stats: dict[str, object]) -> str:
    text = f"{stats['qps']:>9,.0f} qps"
    upd = stats.get("updates")
    if isinstance(upd, dict) and upd.get("p50_ms") is not None:
        text += (
            f", updates {upd['answered']}/{upd['sent']} answered,"
            f" p50 {upd['p50_ms']:.1f} ms p99 {upd['p99_ms']:.1f} ms"
        )
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="length of each dnsperf run")
    parser.add_argument("--rates", default="0,10,50,200", help="update rates, comma-separated")
    parser.add_argument("--updater", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.updater:
        # port rate seconds seed [zone hosts]
        port, rate, seconds, seed, *where = args.updater
        zone, hosts = (where[0], int(where[1])) if where else (DYN, DYN_HOSTS)
        result = run_updater(int(port), float(rate), float(seconds), int(seed), zone, hosts)
        print(json.dumps(result), flush=True)
        return 0
    for exe in ("dnsperf", "knotd"):
        if find_binary(exe) is None:
            sys.exit(f"{exe} is not installed: run sudo scripts/install-peers.sh")
    rates = [int(r) for r in args.rates.split(",")]
    kinds = ["dynzone", "knot"]
    runs: dict[str, list[dict[int, dict[str, object]]]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory(prefix="dynzone-bench-upd-") as tmp:
        tmpdir = Path(tmp)
        zones = {STATIC: tmpdir / f"{STATIC}.zone", DYN: tmpdir / f"{DYN}.zone"}
        write_qps_zone(zones[STATIC])
        write_dyn_zone(zones[DYN])
        queries = tmpdir / "queries.txt"
        mix = write_mixed_queries(queries)
        print(f"query mix: {mix}")
        for r in range(args.rounds):
            order = kinds if r % 2 == 0 else kinds[::-1]
            print(f"round {r + 1}:")
            for kind in order:
                runs[kind].append(
                    measure(kind, zones, queries, tmpdir / f"{kind}-{r}", rates, args.seconds)
                )
    summary = report(runs, rates)
    summary.update({"query_mix": mix, "seconds": args.seconds, "rounds": args.rounds})
    outdir = ROOT / "bench" / "results"
    outdir.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = outdir / f"updating-{stamp}.json"
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


def report(
    runs: dict[str, list[dict[int, dict[str, object]]]], rates: list[int]
) -> dict[str, object]:
    """Print the table (median of the rounds, every round in brackets) and return it."""

    def qps(kind: str, rate: int) -> list[float]:
        return [float(run[rate]["qps"]) for run in runs[kind]]  # type: ignore[arg-type]

    def upd(kind: str, rate: int, field: str) -> list[float]:
        vals = []
        for run in runs[kind]:
            u = run[rate].get("updates")
            if isinstance(u, dict) and u.get(field) is not None:
                vals.append(float(u[field]))
        return vals

    base = statistics.median(qps("dynzone", rates[0]))
    rows = []
    print("\nqueries/second while updating (median of the rounds; each round in brackets)")
    print(
        "| updates/s | dynzone QPS | Knot QPS | dynzone / own at 0 | dynzone / Knot |"
        " dynzone update p50 / p99 | Knot update p50 / p99 |"
    )
    print("|---|---|---|---|---|---|---|")
    for rate in rates:
        dz, kn = qps("dynzone", rate), qps("knot", rate)
        ratios = [d / k for d, k in zip(dz, kn, strict=True)]
        row = {
            "rate": rate,
            "dynzone_qps": dz,
            "knot_qps": kn,
            "dynzone_vs_own": statistics.median(dz) / base,
            "dynzone_vs_knot": statistics.median(ratios),
            "dynzone_p50_ms": upd("dynzone", rate, "p50_ms"),
            "dynzone_p99_ms": upd("dynzone", rate, "p99_ms"),
            "knot_p50_ms": upd("knot", rate, "p50_ms"),
            "knot_p99_ms": upd("knot", rate, "p99_ms"),
        }
        rows.append(row)

        def fmt(vals: list[float], unit: str = "") -> str:
            if not vals:
                return "–"
            each = " / ".join(f"{v:,.0f}" if not unit else f"{v:.1f}" for v in vals)
            mid = statistics.median(vals)
            return f"{mid:,.0f} ({each})" if not unit else f"{mid:.1f} ({each})"

        lat = (
            f"{fmt(row['dynzone_p50_ms'], 'ms')} / {fmt(row['dynzone_p99_ms'], 'ms')}"  # type: ignore[arg-type]
            if rate
            else "–"
        )
        klat = (
            f"{fmt(row['knot_p50_ms'], 'ms')} / {fmt(row['knot_p99_ms'], 'ms')}"  # type: ignore[arg-type]
            if rate
            else "–"
        )
        print(
            f"| {rate} | {fmt(dz)} | {fmt(kn)} | {row['dynzone_vs_own']:.2f} |"
            f" {row['dynzone_vs_knot']:.2f} ({' / '.join(f'{r:.2f}' for r in ratios)}) |"
            f" {lat} | {klat} |"
        )
    return {"rows": rows, "runs": runs}


if __name__ == "__main__":
    raise SystemExit(main())
