"""Run dynzone with zones and TSIG keys for RFC 2136 and ACME end-to-end tests."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsigkeyring
import dns.update

from tests.peers import Server, free_port, serving, start_dynzone, wait_until

EXAMPLE = "example.com"
# example.com delegates acme.example.com, a small zone of its own that a key
# may write (the CNAME pattern); _acme-challenge.cname points into it.
EXAMPLE_TEXT = """\
$ORIGIN example.com.
$TTL 300
@        IN SOA ns1 hostmaster 1 3600 600 86400 60
         IN NS  ns1
         IN NS  ns2
ns1      IN A   127.0.0.1
ns2      IN A   127.0.0.2
www      IN A   192.0.2.1
mail     IN MX  10 www
alias    IN CNAME www
acme     IN NS  ns1
_acme-challenge.cname IN CNAME _acme-challenge.cname.acme.example.com.
"""
ACME = "acme.example.com"
ACME_TEXT = """\
$ORIGIN acme.example.com.
$TTL 300
@        IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 86400 60
         IN NS  ns1.example.com.
"""


@dataclass
class Key:
    name: str
    algorithm: str
    secret: str
    key_file: Path  # the BIND key file `dynzone key add` printed
    certbot_file: Path  # the certbot credentials it printed (none for a key without grants)


@dataclass
class UpdateServer:
    server: Server
    config: Path
    http_port: int = 0  # its HTTP API, if started with one

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def workdir(self) -> Path:
        return self.server.workdir

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "dynzone", *args, "--config", str(self.config)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)

    def add_key(self, name: str, *grants: str, algorithm: str | None = None) -> Key:
        """``dynzone key add``; saves the two printed snippets as files."""
        argv = ["key", "add", name]
        if algorithm is not None:
            argv += ["--algorithm", algorithm]
        for g in grants:
            argv += ["--grant", g]
        done = self.cli(*argv)
        assert done.returncode == 0, done.stderr
        key_text = re.search(r'^key ".*?^};\n', done.stdout, re.S | re.M)
        certbot_text = re.search(r"^dns_rfc2136_server.*", done.stdout, re.S | re.M)
        assert key_text and (certbot_text or not grants), done.stdout
        key_file = self.workdir / f"{name}.key"
        key_file.write_text(key_text.group(0))
        certbot_file = self.workdir / f"{name}.ini"
        if certbot_text:
            certbot_file.write_text(certbot_text.group(0))
            certbot_file.chmod(0o600)
        secret = re.search(r'secret "([^"]+)"', key_text.group(0))
        alg = re.search(r"algorithm ([\w-]+);", key_text.group(0))
        assert secret and alg
        return Key(name, alg.group(1), secret.group(1), key_file, certbot_file)

    def add_token(self, name: str, *grants: str) -> str:
        """``dynzone token add``; the key it printed."""
        argv = ["token", "add", name]
        for g in grants:
            argv += ["--grant", g]
        done = self.cli(*argv)
        assert done.returncode == 0, done.stderr
        key = re.search(rf"^({re.escape(name)}\.\S+)$", done.stdout, re.M)
        assert key, done.stdout
        return key.group(1)

    def acme_register(self, *allowfrom: str) -> dict[str, str]:
        """``dynzone acme-dns register``: the account, as /register answers it."""
        argv = ["acme-dns", "register"]
        if allowfrom:
            argv += ["--allowfrom", *allowfrom]
        done = self.cli(*argv)
        assert done.returncode == 0, done.stderr
        account: dict[str, str] = json.loads(done.stdout)
        return account

    def set_cname(self, key: Key, owner: str, target: str, zone: str = EXAMPLE) -> None:
        """An RFC 2136 UPDATE signed with ``key``: ``owner`` becomes a CNAME to ``target``."""
        keyring = dns.tsigkeyring.from_text({key.name: (key.algorithm, key.secret)})
        update = dns.update.UpdateMessage(zone, keyring=keyring)
        update.replace(owner + ".", 60, "CNAME", target + ".")
        reply = dns.query.tcp(update, "127.0.0.1", port=self.port, timeout=5)
        assert reply.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(reply.rcode())

    def query(self, name: str, rdtype: str = "A") -> list[str]:
        """The answer's records of ``rdtype``, as sorted text."""
        q = dns.message.make_query(name, dns.rdatatype.from_text(rdtype))
        r = dns.query.udp(q, "127.0.0.1", port=self.port, timeout=3)
        return sorted(
            rd.to_text()
            for rrset in r.answer
            if rrset.rdtype == q.question[0].rdtype
            for rd in rrset
        )

    def rcode(self, name: str, rdtype: str = "A") -> str:
        q = dns.message.make_query(name, dns.rdatatype.from_text(rdtype))
        r = dns.query.udp(q, "127.0.0.1", port=self.port, timeout=3)
        return dns.rcode.to_text(r.rcode())

    def serial(self, zone: str = EXAMPLE) -> int:
        return int(self.query(zone, "SOA")[0].split()[2])

    def journal(self, zone: str = EXAMPLE) -> str:
        done = self.cli("zone", "journal", zone)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def stop(self) -> None:
        self.server.stop()


def start_update_server(
    workdir: Path,
    zone_settings: str = "",
    zones: dict[str, str] | None = None,
    http: bool = False,
    extra: str = "",
) -> UpdateServer:
    """dynzone serving example.com and acme.example.com (or ``zones``) on a free port,
    with ``http`` its HTTP API on another.

    ``zone_settings`` is added to every zone's table (e.g. allow_update);
    ``extra`` to the end of the config (e.g. an ``[acme_dns]`` table).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    zones = zones or {EXAMPLE: EXAMPLE_TEXT, ACME: ACME_TEXT}
    port = free_port()
    tables = []
    for name, text in zones.items():
        (workdir / f"{name}.zone").write_text(text)
        tables.append(f'[[zone]]\nname = "{name}"\nfile = "{name}.zone"\n{zone_settings}\n')
    http_port = free_port() if http else 0
    http_table = f'[http]\nlisten = ["127.0.0.1:{http_port}"]\n' if http else ""
    config = workdir / "dynzone.toml"
    config.write_text(
        f'data_dir = "data"\n[dns]\nlisten = ["127.0.0.1:{port}", "[::1]:{port}"]\n'
        + http_table
        + "".join(tables)
        + extra
    )
    server = serving(start_dynzone(config, workdir, port), list(zones))
    if http:
        # The HTTP listener opens after the DNS ones: wait for it too.
        assert wait_until(lambda: _accepts(http_port)), f"no HTTP listener on {http_port}"
    return UpdateServer(server, config, http_port)


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True
