"""dynzone behind the local resolver: Unbound (stub-zone and auth-zone) and dnsmasq,
configured with the README's lines, answer the zone's names from dynzone, show a
dyndns2 update (through auth-zone within a second, thanks to NOTIFY; through
the others once the TTL has passed), and answer their own names without asking
dynzone."""

from __future__ import annotations

import re
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from tests.conftest import need_peer
from tests.e2e.dyndns_server import ZONE, Dynzone, start
from tests.peers import free_port, wait_until

README = Path(__file__).resolve().parents[2] / "README.md"
SHORT_TTL = 2
HOST = f"home.{ZONE}"
LAN_HOST = f"nas.{ZONE}"  # holds a LAN address: resolvers must be told to keep it
LOCAL_NAME = "printer.lan."  # the resolver's own name
LOCAL_ADDRESS = "192.168.1.5"
AUTH_ROUNDS = 10

# A validating Unbound, as Debian ships it: the root zone's trust anchor (KSK-2017).
ROOT_ANCHOR = ". DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"


def readme_block(marker: str) -> str:
    """The fenced block after ``<!-- marker -->`` in the README."""
    found = re.search(rf"<!-- {marker} -->\n```\w*\n(.*?)```", README.read_text(), re.S)
    assert found, f"README lost the {marker} snippet"
    return found.group(1)


def ask(port: int, name: str, rdtype: str = "A") -> tuple[str, list[str]]:
    """(rcode, addresses) of a query to the resolver on ``port``."""
    query = dns.message.make_query(name, dns.rdatatype.from_text(rdtype))
    reply = dns.query.udp(query, "127.0.0.1", port=port, timeout=3)
    answers = sorted(
        rd.to_text() for rr in reply.answer if rr.rdtype == query.question[0].rdtype for rd in rr
    )
    return dns.rcode.to_text(reply.rcode()), answers


def dynzone_queries(dz: Dynzone) -> float:
    """Every query dynzone has answered, from its /metrics."""
    with urllib.request.urlopen(dz.url("/metrics"), timeout=10) as reply:
        text = reply.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("dynzone_dns_requests_total")
    )


def update(dz: Dynzone, host: str, address: str) -> None:
    status, body = dz.curl(f"hostname={host}&myip={address}", "home", "pw-home")
    assert status == 200 and body.startswith(("good", "nochg")), body


def serving_dynzone(workdir: Path, zone: str) -> Iterator[Dynzone]:
    # Updates come faster here than the per-host limit allows a router.
    server = start(workdir, zone=zone, http="updates_per_host_per_minute = 100")
    try:
        server.add_user("home", "pw-home", HOST, LAN_HOST)
        yield server
    finally:
        server.stop()


class Resolver:
    """A resolver process on 127.0.0.1:``port``, stopped with ``stop``."""

    def __init__(self, argv: list[str], port: int, workdir: Path) -> None:
        self.port = port
        self.log = workdir / "resolver.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        if not wait_until(self._answers, timeout=20):
            self.stop()
            pytest.fail(f"{argv[0]} did not start:\n{self.log.read_text()}")

    def _answers(self) -> bool:
        if self.proc.poll() is not None:
            return False
        try:
            ask(self.port, LOCAL_NAME)
        except (OSError, dns.exception.Timeout):
            return False
        return True

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_unbound(workdir: Path, port: int, snippet: str) -> Resolver:
    binary = need_peer("unbound")
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "unbound.conf"
    # What a test machine needs (a port of its own, no privilege drop, a
    # local name), then the README's lines as they are.
    conf.write_text(
        f"""\
server:
    interface: 127.0.0.1
    port: {port}
    do-ip6: no
    username: ""
    chroot: ""
    directory: "{workdir}"
    pidfile: "{workdir}/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    access-control: 127.0.0.0/8 allow
    trust-anchor: "{ROOT_ANCHOR}"
    private-address: 192.168.0.0/16
    local-zone: "lan." static
    local-data: "{LOCAL_NAME} A {LOCAL_ADDRESS}"
{snippet}"""
    )
    checked = subprocess.run(
        ["unbound-checkconf", str(conf)], capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return Resolver([binary, "-d", "-c", str(conf)], port, workdir)


def start_dnsmasq(workdir: Path, port: int, snippet: str) -> Resolver:
    binary = need_peer("dnsmasq")
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "dnsmasq.conf"
    conf.write_text(
        f"""\
port={port}
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
stop-dns-rebind
pid-file={workdir}/dnsmasq.pid
address=/{LOCAL_NAME.rstrip(".")}/{LOCAL_ADDRESS}
{snippet}"""
    )
    return Resolver([binary, "--keep-in-foreground", f"--conf-file={conf}"], port, workdir)


@pytest.fixture(scope="module")
def short_ttl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dynzone]:
    """dynzone with a short dynamic_ttl, for the resolvers that cache."""
    yield from serving_dynzone(tmp_path_factory.mktemp("dz-short"), f"dynamic_ttl = {SHORT_TTL}\n")


def cached_until_the_ttl_passes(dz: Dynzone, resolver: Resolver) -> None:
    """The zone's names resolve; an update is seen once the TTL has passed; the
    resolver's own name is answered without a query to dynzone."""
    update(dz, HOST, "192.0.2.10")
    update(dz, LAN_HOST, "192.168.1.20")
    assert ask(resolver.port, f"static.{ZONE}") == ("NOERROR", ["192.0.2.1"])
    assert ask(resolver.port, HOST) == ("NOERROR", ["192.0.2.10"])
    assert ask(resolver.port, LAN_HOST) == ("NOERROR", ["192.168.1.20"])
    update(dz, HOST, "192.0.2.11")
    changed = time.monotonic()
    assert wait_until(lambda: ask(resolver.port, HOST)[1] == ["192.0.2.11"], SHORT_TTL + 10)
    print(f"new address through the resolver after {time.monotonic() - changed:.2f} s")
    before = dynzone_queries(dz)
    assert ask(resolver.port, LOCAL_NAME) == ("NOERROR", [LOCAL_ADDRESS])
    assert dynzone_queries(dz) == before, "the resolver's own name reached dynzone"


def test_unbound_stub_zone(short_ttl: Dynzone, tmp_path: Path) -> None:
    snippet = readme_block("resolver-unbound-stub").replace("@5353", f"@{short_ttl.dns_port}")
    resolver = start_unbound(tmp_path, free_port(), snippet)
    try:
        cached_until_the_ttl_passes(short_ttl, resolver)
    finally:
        resolver.stop()


def test_dnsmasq_server_line(short_ttl: Dynzone, tmp_path: Path) -> None:
    snippet = readme_block("resolver-dnsmasq").replace("#5353", f"#{short_ttl.dns_port}")
    resolver = start_dnsmasq(tmp_path, free_port(), snippet)
    try:
        cached_until_the_ttl_passes(short_ttl, resolver)
    finally:
        resolver.stop()


def test_unbound_auth_zone_sees_each_update_within_a_second(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    workdir = tmp_path_factory.mktemp("auth-zone")
    resolver_port = free_port()
    zone_lines = readme_block("resolver-dynzone-auth").replace(
        "127.0.0.1:53", f"127.0.0.1:{resolver_port}"
    )
    # A long TTL: what the resolver answers cannot come from a cache running out.
    dynzone = serving_dynzone(workdir / "dynzone", "dynamic_ttl = 3600\n" + zone_lines)
    dz = next(dynzone)
    resolver = None
    try:
        update(dz, HOST, "192.0.2.100")
        update(dz, LAN_HOST, "192.168.1.20")
        snippet = readme_block("resolver-unbound-auth").replace("@5353", f"@{dz.dns_port}")
        resolver = start_unbound(workdir / "unbound", resolver_port, snippet)
        assert wait_until(lambda: ask(resolver_port, HOST)[1] == ["192.0.2.100"], 30)
        assert ask(resolver_port, f"static.{ZONE}") == ("NOERROR", ["192.0.2.1"])
        assert ask(resolver_port, LAN_HOST) == ("NOERROR", ["192.168.1.20"])
        assert ask(resolver_port, f"nothing.{ZONE}")[0] == "NXDOMAIN"
        delays = []
        for round_ in range(AUTH_ROUNDS):
            address = f"192.0.2.{101 + round_}"
            update(dz, HOST, address)
            changed = time.monotonic()
            assert wait_until(lambda a=address: ask(resolver_port, HOST)[1] == [a], 10), (
                resolver.log.read_text()
            )
            delays.append(time.monotonic() - changed)
        median = statistics.median(delays)
        print(
            f"auth-zone: update seen through Unbound after {median * 1000:.0f} ms (median of"
            f" {AUTH_ROUNDS}; slowest {max(delays) * 1000:.0f} ms)"
        )
        assert median < 1.0, delays
        before = dynzone_queries(dz)
        assert ask(resolver_port, LOCAL_NAME) == ("NOERROR", [LOCAL_ADDRESS])
        assert ask(resolver_port, HOST)[1] == [f"192.0.2.{100 + AUTH_ROUNDS}"]
        assert dynzone_queries(dz) == before, "answers came from dynzone, not Unbound's copy"
    finally:
        if resolver is not None:
            resolver.stop()
        dynzone.close()
