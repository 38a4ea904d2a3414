"""ACME dns-01 end to end, offline: pebble issues certificates validated through dynzone.

certbot (with certbot-dns-rfc2136) and lego (rfc2136 provider) each get a
certificate for one name and for a wildcard plus its apex, and lego's pdns
provider gets one through dynzone's PowerDNS-compatible API; lego also uses the
CNAME pattern, where ``_acme-challenge.cname.example.com`` is a CNAME into
the small zone ``acme.example.com`` and the key may write nothing else. After
each run the challenge TXT records are gone again.

Through the acme-dns API, three certbots with the certbot-dns-acmedns plugin
get three certificates at once with one account (six TXT values at one
name); the plugin never deletes its values, so they are gone once
``[acme_dns] txt_ttl`` has passed.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need_peer
from tests.e2e.pebble import Pebble, start_pebble
from tests.e2e.update_server import Key, UpdateServer, start_update_server
from tests.peers import INSTALL_HINT, wait_until

TXT_TTL = 30  # seconds an acme-dns value lives; the clients below never delete theirs
# Where scripts/install-peers.sh puts the certbot-dns-acmedns plugin (from PyPI)
# for Debian's certbot, which finds it through PYTHONPATH.
CERTBOT_PLUGINS = Path("/usr/local/lib/dynzone-peers/certbot-plugins")


@pytest.fixture(scope="module")
def dynzone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpdateServer]:
    dz = start_update_server(
        tmp_path_factory.mktemp("acme-dns"),
        http=True,
        extra=f'[acme_dns]\nzone = "acme.example.com"\ntxt_ttl = {TXT_TTL}\n',
    )
    try:
        yield dz
    finally:
        dz.stop()


@pytest.fixture(scope="module")
def pebble(tmp_path_factory: pytest.TempPathFactory, dynzone: UpdateServer) -> Iterator[Pebble]:
    binary = need_peer("pebble")
    pb = start_pebble(binary, tmp_path_factory.mktemp("pebble"), dynzone.port)
    try:
        yield pb
    finally:
        pb.stop()


def san_of(cert: Path) -> set[str]:
    done = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-noout", "-ext", "subjectAltName"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return {part.strip().removeprefix("DNS:") for part in done.stdout.splitlines()[-1].split(",")}


def challenges_gone(dynzone: UpdateServer, *names: str) -> None:
    for name in names:
        assert dynzone.query(f"_acme-challenge.{name}", "TXT") == [], name
    journal = dynzone.journal()
    assert "IN TXT" in journal, "the challenges went through the journal"


def certbot(pebble: Pebble, key: Key, workdir: Path, *domains: str) -> Path:
    """Run certbot certonly with the rfc2136 plugin; returns the issued certificate."""
    plugin = [
        "--authenticator",
        "dns-rfc2136",
        "--dns-rfc2136-credentials",
        str(key.certbot_file),
        "--dns-rfc2136-propagation-seconds",
        "1",
    ]
    return finish_certbot(start_certbot(pebble, workdir, plugin, {}, *domains))


def start_certbot(
    pebble: Pebble, workdir: Path, plugin: list[str], env: dict[str, str], *domains: str
) -> tuple[subprocess.Popen[str], Path]:
    """certbot certonly with the ``plugin`` arguments, started; ``finish_certbot`` waits."""
    binary = need_peer("certbot")
    argv = [
        binary,
        "certonly",
        "--non-interactive",
        "--agree-tos",
        "--register-unsafely-without-email",
        "--server",
        pebble.directory,
        "--config-dir",
        str(workdir / "config"),
        "--work-dir",
        str(workdir / "work"),
        "--logs-dir",
        str(workdir / "logs"),
        *plugin,
        "--cert-name",
        "test",
    ]
    for d in domains:
        argv += ["-d", d]
    # certbot is Debian's, on the system Python: keep our virtualenv out of its way.
    env = {
        "PATH": "/usr/bin:/bin",
        "REQUESTS_CA_BUNDLE": str(pebble.ca_file),
        "HOME": str(workdir),
        **env,
    }
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    return proc, workdir


def finish_certbot(started: tuple[subprocess.Popen[str], Path]) -> Path:
    """Wait for a certbot from ``start_certbot``; returns the issued certificate."""
    proc, workdir = started
    try:
        output, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = workdir / "logs" / "letsencrypt.log"
    assert proc.returncode == 0, output + (log.read_text() if log.exists() else "")
    return workdir / "config" / "live" / "test" / "cert.pem"


def lego(pebble: Pebble, key: Key, dynzone: UpdateServer, workdir: Path, *domains: str) -> Path:
    env = dict(
        RFC2136_NAMESERVER=f"127.0.0.1:{dynzone.port}",
        RFC2136_TSIG_KEY=key.name,
        RFC2136_TSIG_SECRET=key.secret,
        RFC2136_TSIG_ALGORITHM=f"{key.algorithm}.",
        RFC2136_PROPAGATION_TIMEOUT="30",
        RFC2136_POLLING_INTERVAL="1",
        # Wildcard and apex share one challenge name: lego solves them one after
        # the other, waiting this long between (60 s by default).
        RFC2136_SEQUENCE_INTERVAL="1",
    )
    return run_lego(pebble, dynzone, workdir, "rfc2136", env, *domains)


def run_lego(
    pebble: Pebble,
    dynzone: UpdateServer,
    workdir: Path,
    provider: str,
    provider_env: dict[str, str],
    *domains: str,
) -> Path:
    """lego with a DNS ``provider`` configured by ``provider_env``; its certificate."""
    binary = need_peer("lego")
    env = dict(os.environ, LEGO_CA_CERTIFICATES=str(pebble.ca_file), **provider_env)
    argv = [
        binary,
        "--server",
        pebble.directory,
        "--email",
        "test@example.com",
        "--accept-tos",
        "--path",
        str(workdir),
        "--dns",
        provider,
        # Where lego looks up zones and CNAMEs: dynzone itself, not the Internet.
        "--dns.resolvers",
        f"127.0.0.1:{dynzone.port}",
        # lego would otherwise ask each NS of the zone on port 53.
        "--dns.disable-cp",
    ]
    for d in domains:
        argv += ["-d", d]
    done = subprocess.run([*argv, "run"], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return workdir / "certificates" / f"{domains[0].replace('*', '_')}.crt"


def test_certbot_one_name(dynzone: UpdateServer, pebble: Pebble, tmp_path: Path) -> None:
    key = dynzone.add_key("certbot-one", "_acme-challenge.www.example.com TXT")
    cert = certbot(pebble, key, tmp_path, "www.example.com")
    assert san_of(cert) == {"www.example.com"}
    challenges_gone(dynzone, "www.example.com")
    assert "by key:certbot-one" in dynzone.journal()


def test_certbot_wildcard_and_apex(dynzone: UpdateServer, pebble: Pebble, tmp_path: Path) -> None:
    # certbot's default algorithm is HMAC-MD5; this key uses it the way the
    # credentials snippet `dynzone key add` printed says.
    key = dynzone.add_key("certbot-wild", "_acme-challenge.example.com TXT", algorithm="hmac-md5")
    cert = certbot(pebble, key, tmp_path, "example.com", "*.example.com")
    assert san_of(cert) == {"example.com", "*.example.com"}
    challenges_gone(dynzone, "example.com")


def test_lego_wildcard_and_apex(dynzone: UpdateServer, pebble: Pebble, tmp_path: Path) -> None:
    key = dynzone.add_key("lego-wild", "_acme-challenge.example.com TXT")
    cert = lego(pebble, key, dynzone, tmp_path, "example.com", "*.example.com")
    assert san_of(cert) == {"example.com", "*.example.com"}
    challenges_gone(dynzone, "example.com")
    assert "by key:lego-wild" in dynzone.journal()


def test_lego_cname_into_a_small_zone(
    dynzone: UpdateServer, pebble: Pebble, tmp_path: Path
) -> None:
    # The key may write only in acme.example.com; example.com holds the CNAME.
    key = dynzone.add_key("lego-cname", "*.acme.example.com TXT")
    serial = dynzone.serial("example.com")
    cert = lego(pebble, key, dynzone, tmp_path, "cname.example.com", "*.cname.example.com")
    assert san_of(cert) == {"cname.example.com", "*.cname.example.com"}
    assert dynzone.serial("example.com") == serial, "example.com itself was not touched"
    assert "by key:lego-cname" in dynzone.journal("acme.example.com")
    assert dynzone.query("_acme-challenge.cname.acme.example.com", "TXT") == []
    # And the key really cannot write in example.com.
    done = subprocess.run(
        ["nsupdate", "-k", str(key.key_file)],
        input=f"server 127.0.0.1 {dynzone.port}\nzone example.com\n"
        'update add _acme-challenge.cname.example.com 60 TXT "x"\nsend\n',
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "REFUSED" in done.stdout + done.stderr


def test_lego_pdns_provider_through_the_powerdns_api(
    dynzone: UpdateServer, pebble: Pebble, tmp_path: Path
) -> None:
    # lego's pdns provider, unchanged, against dynzone's PowerDNS-compatible
    # API with a dynzone token as its API key.
    key = dynzone.add_token("lego-pdns", "_acme-challenge.example.com TXT")
    env = dict(
        PDNS_API_URL=f"http://127.0.0.1:{dynzone.http_port}/",
        PDNS_API_KEY=key,
        PDNS_PROPAGATION_TIMEOUT="30",
        PDNS_POLLING_INTERVAL="1",
        PDNS_TTL="60",
    )
    cert = run_lego(pebble, dynzone, tmp_path, "pdns", env, "example.com", "*.example.com")
    assert san_of(cert) == {"example.com", "*.example.com"}
    challenges_gone(dynzone, "example.com")
    assert "by token:lego-pdns" in dynzone.journal()


def acme_values_expire(dynzone: UpdateServer, fulldomain: str) -> None:
    """The values the clients left at ``fulldomain`` go once txt_ttl has passed,
    deleted by the sweeper, and the name then gets NXDOMAIN with the zone's SOA."""
    assert wait_until(lambda: dynzone.query(fulldomain, "TXT") == [], timeout=TXT_TTL + 15)
    assert dynzone.rcode(fulldomain, "TXT") == "NXDOMAIN"
    entries = dynzone.journal("acme.example.com").split("; serial ")
    swept = [e for e in entries if "by dynzone:expiry" in e and f"- {fulldomain}." in e]
    assert swept, "the sweeper deleted the values"


def test_certbot_acme_dns_three_certificates_at_once_on_one_account(
    dynzone: UpdateServer, pebble: Pebble, tmp_path: Path
) -> None:
    # One account (registered by the admin: registration is closed) serves
    # three certificates, each a wildcard and its apex, solved at the same
    # time by three certbots with the certbot-dns-acmedns plugin: six TXT
    # values at one name, where acme-dns itself keeps the last two.
    if not (CERTBOT_PLUGINS / "certbot_dns_acmedns").is_dir():
        message = f"certbot-dns-acmedns is not in {CERTBOT_PLUGINS}; {INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    account = dynzone.acme_register("127.0.0.0/8")
    key = dynzone.add_key("acme-cnames", "*.example.com CNAME")
    names = ["one.example.com", "two.example.com", "three.example.com"]
    for name in names:
        dynzone.set_cname(key, f"_acme-challenge.{name}", account["fulldomain"])
    registrations = tmp_path / "acme-dns.json"
    registrations.write_text(json.dumps(dict.fromkeys(names, account)))
    registrations.chmod(0o600)
    credentials = tmp_path / "acme-dns.ini"
    credentials.write_text(
        f"dns_acmedns_api_url = http://127.0.0.1:{dynzone.http_port}\n"
        f"dns_acmedns_registration_file = {registrations}\n"
    )
    credentials.chmod(0o600)
    plugin = [
        "--authenticator",
        "dns-acmedns",
        "--dns-acmedns-credentials",
        str(credentials),
        "--dns-acmedns-propagation-seconds",
        "1",
    ]
    env = {"PYTHONPATH": str(CERTBOT_PLUGINS)}
    started = [
        start_certbot(pebble, tmp_path / name, plugin, env, name, f"*.{name}") for name in names
    ]
    for name, run in zip(names, started, strict=True):
        assert san_of(finish_certbot(run)) == {name, f"*.{name}"}
    journal = dynzone.journal("acme.example.com")
    assert journal.count(f"by acme:{account['username']}") == 6
    acme_values_expire(dynzone, account["fulldomain"])


def test_acme_dns_registration_is_closed_without_register_from(dynzone: UpdateServer) -> None:
    done = subprocess.run(
        ["curl", "-sS", "-X", "POST", f"http://127.0.0.1:{dynzone.http_port}/register"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(done.stdout) == {"error": "forbidden"}
