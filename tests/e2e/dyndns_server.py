"""Run dynzone with its HTTP API for end-to-end tests, and talk to it with curl and DNS."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype

from tests.peers import Server, TsigSecret, free_port, serving, start_dynzone

ZONE = "dyn.example.com"
ZONE_TEXT = f"""\
$ORIGIN {ZONE}.
$TTL 300
@        IN SOA ns1 hostmaster 100 3600 600 86400 60
         IN NS  ns1
ns1      IN A   127.0.0.1
static   IN A   192.0.2.1
alias    IN CNAME static
sub      IN NS  ns.sub
ns.sub   IN A   192.0.2.53
"""
OTHER_ZONE = "other.example.net"


@dataclass
class Dynzone:
    """A running dynzone with DNS and HTTP on free loopback ports."""

    server: Server
    config: Path
    http_port: int

    @property
    def dns_port(self) -> int:
        return self.server.port

    @property
    def workdir(self) -> Path:
        return self.server.workdir

    def url(self, path: str = "/nic/update") -> str:
        return f"http://127.0.0.1:{self.http_port}{path}"

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return dynzone_cli(self.config, *args, stdin=stdin)

    def add_key(self, name: str, *grants: str) -> TsigSecret:
        """``dynzone key add NAME [--grant G ...]``; the key with the secret it printed."""
        argv = ["key", "add", name]
        for g in grants:
            argv += ["--grant", g]
        done = self.cli(*argv)
        assert done.returncode == 0, done.stderr
        secret = re.search(r'secret "([^"]+)"', done.stdout)
        assert secret, done.stdout
        return TsigSecret(name, "hmac-sha256", secret.group(1))

    def add_user(self, name: str, password: str, *hosts: str) -> None:
        argv = ["user", "add", name, "--password-stdin"]
        for h in hosts:
            argv += ["--host", h]
        done = self.cli(*argv, stdin=password + "\n")
        assert done.returncode == 0, done.stderr

    def curl(
        self,
        query: str,
        user: str | None = None,
        password: str | None = None,
        *extra: str,
        path: str = "/nic/update",
    ) -> tuple[int, str]:
        """GET with real curl; returns (HTTP status, body)."""
        argv = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "--max-time", "20"]
        if user is not None:
            argv += ["-u", f"{user}:{password}"]
        argv += [*extra, self.url(path) + (f"?{query}" if query else "")]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        assert done.returncode == 0, f"curl failed: {done.stderr}"
        body, _, status = done.stdout.rpartition("\n")
        return int(status), body.removesuffix("\n")

    def query(self, name: str, rdtype: str = "A") -> list[str]:
        """The answer's rdata, as text (sorted); empty for no data."""
        q = dns.message.make_query(name, dns.rdatatype.from_text(rdtype))
        r = dns.query.udp(q, "127.0.0.1", port=self.dns_port, timeout=3)
        return sorted(
            rd.to_text()
            for rrset in r.answer
            for rd in rrset
            if rrset.rdtype == q.question[0].rdtype
        )

    def soa_serial(self, zone: str = ZONE) -> int:
        q = dns.message.make_query(zone, dns.rdatatype.SOA)
        r = dns.query.udp(q, "127.0.0.1", port=self.dns_port, timeout=3)
        return int(r.answer[0][0].serial)

    def stop(self) -> None:
        self.server.stop()


def dynzone_cli(
    config: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "dynzone", *args, "--config", str(config)]
    return subprocess.run(
        argv, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def write_config(
    workdir: Path, dns_port: int, http_port: int, http: str = "", zone: str = "", top: str = ""
) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    zone_file = workdir / f"{ZONE}.zone"
    if not zone_file.exists():
        zone_file.write_text(ZONE_TEXT)
    config = workdir / "dynzone.toml"
    config.write_text(
        f"""\
data_dir = "data"
{top}
[dns]
listen = ["127.0.0.1:{dns_port}", "[::1]:{dns_port}"]
[http]
listen = ["127.0.0.1:{http_port}"]
{http}
[[zone]]
name = "{ZONE}"
file = "{zone_file.name}"
{zone}
[[zone]]
name = "{OTHER_ZONE}"
ns = ["ns1.{OTHER_ZONE}."]
email = "hostmaster@{OTHER_ZONE}"
"""
    )
    return config


def start(
    workdir: Path,
    http: str = "",
    zone: str = "",
    ports: tuple[int, int] | None = None,
    top: str = "",
) -> Dynzone:
    """Write a config (unless one is there) and start dynzone; waits until DNS and HTTP answer."""
    dns_port, http_port = ports or (free_port(), free_port())
    config = workdir / "dynzone.toml"
    if ports is None or not config.exists():
        config = write_config(workdir, dns_port, http_port, http, zone, top)
    server = serving(start_dynzone(config, workdir, dns_port), [ZONE])
    dz = Dynzone(server, config, http_port)
    deadline = time.monotonic() + 20
    while True:
        try:
            dz.curl("", path="/nic/checkip")
            return dz
        except AssertionError:
            if time.monotonic() > deadline:
                dz.stop()
                raise
            time.sleep(0.1)
