"""Start real DNS servers (NSD, Knot, BIND, dynzone) on free loopback ports.

Shared by the end-to-end tests and by ``bench/``. Every server listens on
127.0.0.1 only, on a port chosen free at run time, and is stopped by
``Server.stop()`` (the fixtures and the bench call it in ``finally``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype

INSTALL_HINT = "install the real peers with: sudo scripts/install-peers.sh"


def free_port() -> int:
    """Return a port that is free on 127.0.0.1 for both UDP and TCP."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free loopback port found")


def connect_from(source: str, port: int, timeout: float = 5) -> socket.socket:
    """A TCP connection to 127.0.0.1:port from the loopback address ``source``
    (any of 127.0.0.0/8: the tests play clients from several networks)."""
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s


def find_binary(*names: str) -> str | None:
    """Locate a peer binary in PATH or the usual sbin directories."""
    for name in names:
        path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
        if path:
            return path
    return None


@dataclass
class Server:
    """A running DNS server process on 127.0.0.1:port."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    workdir: Path
    log: Path
    host: str = "127.0.0.1"
    extra: dict[str, object] = field(default_factory=dict)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


def wait_until(predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def wait_for_soa(server: Server, zone: str, timeout: float = 30.0) -> None:
    """Block until the server answers an SOA query for ``zone`` authoritatively."""
    deadline = time.monotonic() + timeout
    q = dns.message.make_query(zone, dns.rdatatype.SOA)
    last: object = None
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.proc.returncode}:\n{server.log_text()}"
            )
        # Short waits: the benchmarks time starts with this, and a server that
        # binds before it answers would otherwise round each start up by the
        # whole timeout.
        try:
            r = dns.query.udp(q, server.host, port=server.port, timeout=0.05)
            if r.answer:
                return
            last = r
        except Exception as exc:  # noqa: BLE001 - keep polling until the deadline
            last = exc
        time.sleep(0.02)
    raise RuntimeError(f"{server.name} did not serve {zone}: {last}\n{server.log_text()}")


def serving(server: Server, zones: object) -> Server:
    """Wait until ``server`` answers for every zone; stop it if it never does."""
    try:
        for zone in zones:  # type: ignore[attr-defined]
            wait_for_soa(server, str(zone))
    except BaseException:
        server.stop()
        raise
    return server


def _prepare(binary: str, workdir: Path, port: int | None) -> tuple[str, int]:
    exe = find_binary(binary)
    if exe is None:
        raise FileNotFoundError(f"{binary} not found; {INSTALL_HINT}")
    workdir.mkdir(parents=True, exist_ok=True)
    return exe, port or free_port()


def _spawn(name: str, argv: list[str], workdir: Path, port: int) -> Server:
    log = workdir / f"{name}.log"
    fh = open(log, "wb")  # noqa: SIM115 - owned by the child for its lifetime
    proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, cwd=workdir)
    fh.close()
    return Server(name=name, port=port, proc=proc, workdir=workdir, log=log)


def _nsd_server(workdir: Path, port: int, *extra: str) -> list[str]:
    """NSD's server and remote-control clauses for a test instance on 127.0.0.1:port."""
    return [
        "server:",
        f"  ip-address: 127.0.0.1@{port}",
        "  server-count: 1",
        '  username: ""',
        '  chroot: ""',
        f'  zonesdir: "{workdir}"',
        f'  pidfile: "{workdir}/nsd.pid"',
        '  database: ""',
        f'  zonelistfile: "{workdir}/zone.list"',
        f'  xfrdfile: "{workdir}/xfrd.state"',
        f'  xfrdir: "{workdir}"',
        *extra,
        # Debian builds NSD with response rate limiting on; a test corpus sent
        # from one address would be throttled.
        "  rrl-ratelimit: 0",
        "  rrl-whitelist-ratelimit: 0",
        "remote-control:",
        "  control-enable: no",
    ]


def _knot_server(workdir: Path, port: int) -> list[str]:
    """Knot's server, log and database clauses for a test instance on 127.0.0.1:port."""
    (workdir / "db").mkdir(exist_ok=True)
    return [
        "server:",
        f"  listen: 127.0.0.1@{port}",
        f'  rundir: "{workdir}"',
        "  background-workers: 1",
        "  udp-workers: 1",
        "  tcp-workers: 1",
        "log:",
        "  - target: stdout",
        "    any: info",
        "database:",
        f'  storage: "{workdir}/db"',
    ]


def start_nsd(
    zones: dict[str, Path], workdir: Path, port: int | None = None, axfr: bool = False
) -> Server:
    """Start NSD serving ``zones`` (name -> zone file) on 127.0.0.1; with ``axfr``,
    unsigned transfers to 127.0.0.1 are allowed."""
    nsd, port = _prepare("nsd", workdir, port)
    lines = _nsd_server(workdir, port, "  verbosity: 1", "  hide-version: yes")
    for name, path in zones.items():
        lines += ["zone:", f"  name: {name}", f'  zonefile: "{path}"']
        if axfr:
            lines.append("  provide-xfr: 127.0.0.1 NOKEY")
    conf = workdir / "nsd.conf"
    conf.write_text("\n".join(lines) + "\n")
    return _spawn("nsd", [nsd, "-d", "-c", str(conf)], workdir, port)


def start_knot(
    zones: dict[str, Path],
    workdir: Path,
    port: int | None = None,
    update_key: TsigSecret | None = None,
    updatable: tuple[str, ...] = (),
    axfr: bool = False,
) -> Server:
    """Start Knot DNS serving ``zones`` on 127.0.0.1.

    With ``update_key``, the ``updatable`` zones take RFC 2136 UPDATEs signed
    with it, and Knot keeps their changes durably in its journal (not written
    back to the zone files). With ``axfr``, unsigned transfers to 127.0.0.1
    are allowed.
    """
    knotd, port = _prepare("knotd", workdir, port)
    lines = [*_knot_server(workdir, port)]
    acl: list[str] = []  # the acl clause's entries
    if update_key is not None:
        lines += [
            "key:",
            f"  - id: {update_key.name}",
            f"    algorithm: {update_key.algorithm}",
            f"    secret: {update_key.secret}",
        ]
        acl += ["  - id: updates", f"    key: {update_key.name}", "    action: update"]
    if axfr:
        acl += ["  - id: transfers", "    address: 127.0.0.1", "    action: transfer"]
    if acl:
        lines += ["acl:", *acl]
    lines += [
        "template:",
        "  - id: default",
        f'    storage: "{workdir}"',
        "    zonefile-sync: -1",
        "    zonefile-load: whole",
        f"    journal-content: {'changes' if update_key is not None else 'none'}",
        "zone:",
    ]
    for name, path in zones.items():
        lines += [f"  - domain: {name}", f'    file: "{path}"']
        zone_acls = (["transfers"] if axfr else []) + (["updates"] if name in updatable else [])
        if zone_acls:
            lines.append(f"    acl: [{', '.join(zone_acls)}]")
    conf = workdir / "knot.conf"
    conf.write_text("\n".join(lines) + "\n")
    return _spawn("knot", [knotd, "-c", str(conf)], workdir, port)


def start_named(
    zones: dict[str, Path],
    workdir: Path,
    port: int | None = None,
    update_key: TsigSecret | None = None,
    updatable: tuple[str, ...] = (),
) -> Server:
    """Start BIND's ``named`` serving ``zones`` on 127.0.0.1, in the foreground.

    One worker thread (``-n 1``), as NSD and Knot run here with one. With
    ``update_key``, the ``updatable`` zones take RFC 2136 UPDATEs signed with
    it; named keeps their changes durably in a journal beside a copy of the
    zone file in ``workdir`` (it writes the ``.jnl`` next to the file).
    """
    named, port = _prepare("named", workdir, port)
    lines = [
        "options {",
        f'  directory "{workdir}";',
        f'  pid-file "{workdir}/named.pid";',
        f"  listen-on port {port} {{ 127.0.0.1; }};",
        "  listen-on-v6 { none; };",
        "  recursion no;",
        "  notify no;",
        "  minimal-responses yes;",
        "};",
        "controls { };",
        # One log line per changed record would be work the others do not do.
        "logging { category update { null; }; category update-security { null; }; };",
    ]
    if update_key is not None:
        lines += [
            f'key "{update_key.name}" {{',
            f"  algorithm {update_key.algorithm};",
            f'  secret "{update_key.secret}";',
            "};",
        ]
    for name, path in zones.items():
        copy = workdir / f"{name}.zone"
        if path != copy:
            shutil.copyfile(path, copy)
        lines += [f'zone "{name}" {{', "  type primary;", f'  file "{copy}";']
        if update_key is not None and name in updatable:
            lines.append(f'  allow-update {{ key "{update_key.name}"; }};')
        lines.append("};")
    conf = workdir / "named.conf"
    conf.write_text("\n".join(lines) + "\n")
    return _spawn("named", [named, "-g", "-n", "1", "-c", str(conf)], workdir, port)


@dataclass(frozen=True)
class TsigSecret:
    """A TSIG key as both ends of a transfer configure it."""

    name: str
    algorithm: str  # hmac-sha256, ...
    secret: str  # base64


def _distinct(*keys: TsigSecret) -> list[TsigSecret]:
    return list(dict.fromkeys(keys))


def start_nsd_secondary(
    zone: str,
    primary_port: int,
    key: TsigSecret,
    notify_key: TsigSecret,
    workdir: Path,
    port: int | None = None,
) -> Server:
    """Start NSD as a secondary of ``zone`` on 127.0.0.1.

    It transfers from 127.0.0.1:primary_port signing with ``key`` and takes
    NOTIFY signed with ``notify_key``.
    """
    nsd, port = _prepare("nsd", workdir, port)
    # Reload as soon as a transfer is in; NSD's default waits a second.
    lines = _nsd_server(workdir, port, "  verbosity: 2", "  xfrd-reload-timeout: 0")
    for k in _distinct(key, notify_key):
        lines += ["key:", f"  name: {k.name}", f"  algorithm: {k.algorithm}"]
        lines.append(f'  secret: "{k.secret}"')
    lines += [
        "zone:",
        f"  name: {zone}",
        f'  zonefile: "{zone}.zone"',
        f"  allow-notify: 127.0.0.1 {notify_key.name}",
        f"  request-xfr: 127.0.0.1@{primary_port} {key.name}",
        "  provide-xfr: 127.0.0.1 NOKEY",  # the tests compare its AXFR with dynzone's
    ]
    conf = workdir / "nsd.conf"
    conf.write_text("\n".join(lines) + "\n")
    return _spawn("nsd", [nsd, "-d", "-c", str(conf)], workdir, port)


def start_knot_secondary(
    zone: str,
    primary_port: int,
    key: TsigSecret,
    notify_key: TsigSecret,
    workdir: Path,
    port: int | None = None,
) -> Server:
    """Start Knot as a secondary of ``zone`` on 127.0.0.1 (keys as for NSD)."""
    knotd, port = _prepare("knotd", workdir, port)
    lines = [*_knot_server(workdir, port), "key:"]
    for k in _distinct(key, notify_key):
        lines += [f"  - id: {k.name}", f"    algorithm: {k.algorithm}", f"    secret: {k.secret}"]
    lines += [
        "remote:",
        "  - id: primary",
        f"    address: 127.0.0.1@{primary_port}",
        f"    key: {key.name}",
        "acl:",
        "  - id: notify_from_primary",
        "    address: 127.0.0.1",
        f"    key: {notify_key.name}",
        "    action: notify",
        "  - id: transfer_to_tests",  # the tests compare its AXFR with dynzone's
        "    address: 127.0.0.1",
        "    action: transfer",
        "zone:",
        f"  - domain: {zone}",
        f'    storage: "{workdir}"',
        "    master: primary",
        "    acl: [notify_from_primary, transfer_to_tests]",
    ]
    conf = workdir / "knot.conf"
    conf.write_text("\n".join(lines) + "\n")
    return _spawn("knot", [knotd, "-c", str(conf)], workdir, port)


def start_dynzone(config: Path, workdir: Path, port: int) -> Server:
    """Start ``dynzone serve --config`` as a child process."""
    argv = [sys.executable, "-m", "dynzone", "serve", "--config", str(config)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    log = workdir / "dynzone.log"
    fh = open(log, "wb")  # noqa: SIM115 - owned by the child for its lifetime
    proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, cwd=workdir, env=env)
    fh.close()
    return Server(name="dynzone", port=port, proc=proc, workdir=workdir, log=log)
