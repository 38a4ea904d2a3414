"""RFC 2136 against BIND's nsupdate: every update form and every prerequisite form.

Each form runs with the key given as ``-y`` and as a ``-k`` key file (the one
``dynzone key add`` printed), over UDP and over TCP (``-v``). Results are read
back over DNS and from the journal.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need_peer
from tests.e2e.update_server import EXAMPLE, Key, UpdateServer, start_update_server

MODES = ["y-udp", "y-tcp", "k-udp", "k-tcp"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpdateServer]:
    need_peer("nsupdate")
    dz = start_update_server(tmp_path_factory.mktemp("nsupdate"))
    try:
        yield dz
    finally:
        dz.stop()


@pytest.fixture(scope="module")
def key(server: UpdateServer) -> Key:
    # Everything below the apex with the default types, plus the apex's own
    # NS, SOA and TXT, which a grant must name.
    return server.add_key("nsupdate-key", "*.example.com", "example.com NS SOA TXT")


def nsupdate(
    server: UpdateServer, key: Key, mode: str, commands: str, zone: str | None = EXAMPLE
) -> tuple[int, str]:
    """Run one nsupdate message; returns (exit status, output)."""
    argv = ["nsupdate"]
    if mode.endswith("tcp"):
        argv.append("-v")
    if mode.startswith("k"):
        argv += ["-k", str(key.key_file)]
    else:
        argv += ["-y", f"{key.algorithm}:{key.name}:{key.secret}"]
    script = f"server 127.0.0.1 {server.port}\n"
    if zone is not None:
        script += f"zone {zone}\n"
    script += commands.strip() + "\nsend\n"
    done = subprocess.run(argv, input=script, capture_output=True, text=True, timeout=30)
    return done.returncode, done.stdout + done.stderr


def ok(server: UpdateServer, key: Key, mode: str, commands: str) -> None:
    rc, out = nsupdate(server, key, mode, commands)
    assert rc == 0, out


def fails(server: UpdateServer, key: Key, mode: str, commands: str, rcode: str) -> None:
    before = server.serial()
    rc, out = nsupdate(server, key, mode, commands)
    assert rc != 0 and f"update failed: {rcode}" in out, out
    assert server.serial() == before, "a refused UPDATE must not change the zone"


@pytest.mark.parametrize("mode", MODES)
def test_update_forms(server: UpdateServer, key: Key, mode: str) -> None:
    p = f"{mode}.example.com"
    # Add RRs: two records, one RRset; a second add with a new TTL sets the RRset's TTL.
    ok(server, key, mode, f"update add a.{p} 60 A 192.0.2.10\nupdate add a.{p} 60 A 192.0.2.11")
    assert server.query(f"a.{p}") == ["192.0.2.10", "192.0.2.11"]
    ok(server, key, mode, f"update add a.{p} 120 A 192.0.2.11")
    assert server.query(f"a.{p}") == ["192.0.2.10", "192.0.2.11"]
    # Delete one RR (class NONE).
    ok(server, key, mode, f"update delete a.{p} A 192.0.2.10")
    assert server.query(f"a.{p}") == ["192.0.2.11"]
    # Delete an RRset (class ANY, a type): the TXT at the same name stays.
    ok(server, key, mode, f'update add a.{p} 60 TXT "kept"')
    ok(server, key, mode, f"update delete a.{p} A")
    assert server.query(f"a.{p}") == []
    assert server.query(f"a.{p}", "TXT") == ['"kept"']
    # Delete every RRset at a name (class ANY, type ANY).
    ok(server, key, mode, f"update add a.{p} 60 AAAA 2001:db8::1")
    ok(server, key, mode, f"update delete a.{p}")
    assert server.rcode(f"a.{p}", "TXT") == "NXDOMAIN"


@pytest.mark.parametrize("mode", MODES)
def test_cname_special_cases(server: UpdateServer, key: Key, mode: str) -> None:
    p = f"{mode}.example.com"
    # A CNAME where other data exists is ignored, and so is data where a CNAME exists.
    ok(server, key, mode, f"update add data.{p} 60 A 192.0.2.20")
    ok(server, key, mode, f"update add data.{p} 60 CNAME www.example.com.")
    assert server.query(f"data.{p}", "CNAME") == []
    assert server.query(f"data.{p}") == ["192.0.2.20"]
    ok(server, key, mode, f"update add alias.{p} 60 CNAME www.example.com.")
    ok(server, key, mode, f'update add alias.{p} 60 TXT "ignored"')
    assert server.query(f"alias.{p}", "TXT") == []
    # A CNAME added where one exists replaces it.
    ok(server, key, mode, f"update add alias.{p} 60 CNAME mail.example.com.")
    assert server.query(f"alias.{p}", "CNAME") == ["mail.example.com."]
    # Messages are applied in order: delete the CNAME, then add data, in one message.
    ok(server, key, mode, f"update delete alias.{p} CNAME\nupdate add alias.{p} 60 A 192.0.2.21")
    assert server.query(f"alias.{p}") == ["192.0.2.21"]


@pytest.mark.parametrize("mode", MODES)
def test_prerequisite_forms(server: UpdateServer, key: Key, mode: str) -> None:
    p = f"pre.{mode}.example.com"
    ok(server, key, mode, f"update add a.{p} 60 A 192.0.2.30")
    add = f'update add b.{p} 60 TXT "{mode}"'
    # Name is in use (class ANY, type ANY) / fails with NXDOMAIN.
    ok(server, key, mode, f"prereq yxdomain a.{p}\n{add}")
    fails(server, key, mode, f"prereq yxdomain none.{p}\n{add}", "NXDOMAIN")
    # Name is not in use (class NONE, type ANY) / fails with YXDOMAIN.
    ok(server, key, mode, f"prereq nxdomain none.{p}\n{add}")
    fails(server, key, mode, f"prereq nxdomain a.{p}\n{add}", "YXDOMAIN")
    # RRset exists, value independent (class ANY, type A) / NXRRSET.
    ok(server, key, mode, f"prereq yxrrset a.{p} A\n{add}")
    fails(server, key, mode, f"prereq yxrrset a.{p} MX\n{add}", "NXRRSET")
    # RRset does not exist (class NONE, type A) / YXRRSET.
    ok(server, key, mode, f"prereq nxrrset a.{p} MX\n{add}")
    fails(server, key, mode, f"prereq nxrrset a.{p} A\n{add}", "YXRRSET")
    # RRset exists, value dependent (zone class, with rdata) / NXRRSET.
    ok(server, key, mode, f"prereq yxrrset a.{p} A 192.0.2.30\n{add}")
    fails(server, key, mode, f"prereq yxrrset a.{p} A 192.0.2.99\n{add}", "NXRRSET")
    # The value-dependent RRset must match as a whole, not just contain the value.
    ok(server, key, mode, f"update add a.{p} 60 A 192.0.2.31")
    fails(server, key, mode, f"prereq yxrrset a.{p} A 192.0.2.30\n{add}", "NXRRSET")
    ok(
        server,
        key,
        mode,
        f"prereq yxrrset a.{p} A 192.0.2.30\nprereq yxrrset a.{p} A 192.0.2.31\n{add}",
    )
    # The failed messages' updates were not applied: only the passing ones wrote b.
    assert server.query(f"b.{p}", "TXT") == [f'"{mode}"']


def test_one_message_is_one_change(server: UpdateServer, key: Key) -> None:
    p = "atomic.example.com"
    before = server.serial()
    ok(
        server,
        key,
        "k-tcp",
        f"update add one.{p} 60 A 192.0.2.40\nupdate add two.{p} 60 A 192.0.2.41\n"
        f'update add two.{p} 60 TXT "three"',
    )
    assert server.serial() == before + 1, "one message, one serial bump"
    entry = server.journal().split("; serial ")[-1]
    assert entry.startswith(f"{before} -> {before + 1}")
    assert "by key:nsupdate-key from 127.0.0.1" in entry
    for rr in (f"one.{p}. 60 IN A 192.0.2.40", f"two.{p}. 60 IN A 192.0.2.41", '"three"'):
        assert rr in entry
    # A failing prerequisite stops the whole message, updates before it included.
    fails(
        server,
        key,
        "k-tcp",
        f"update add three.{p} 60 A 192.0.2.42\nprereq nxdomain one.{p}",
        "YXDOMAIN",
    )
    assert server.query(f"three.{p}") == []
    # One change outside the key's grants refuses the whole message.
    fails(
        server,
        key,
        "k-tcp",
        f"update add four.{p} 60 A 192.0.2.43\nupdate add {EXAMPLE} 60 MX 10 www",
        "REFUSED",
    )
    assert server.query(f"four.{p}") == []


def test_apex_special_cases(server: UpdateServer, key: Key) -> None:
    ns = sorted(server.query(EXAMPLE, "NS"))
    assert len(ns) == 2
    # Deleting the apex's NS RRset is ignored; so is deleting everything at the apex,
    # which still removes the apex's other data.
    ok(server, key, "k-tcp", f'update add {EXAMPLE} 60 TXT "apex"')
    ok(server, key, "k-tcp", f"update delete {EXAMPLE} NS")
    assert server.query(EXAMPLE, "NS") == ns
    ok(server, key, "k-tcp", f"update delete {EXAMPLE}")
    assert server.query(EXAMPLE, "NS") == ns
    assert server.query(EXAMPLE, "TXT") == []
    assert len(server.query(EXAMPLE, "SOA")) == 1
    # One NS record can go, but never the last one.
    ok(server, key, "k-tcp", f"update delete {EXAMPLE} NS ns2.example.com.")
    assert server.query(EXAMPLE, "NS") == ["ns1.example.com."]
    ok(server, key, "k-tcp", f"update delete {EXAMPLE} NS ns1.example.com.")
    assert server.query(EXAMPLE, "NS") == ["ns1.example.com."]
    ok(server, key, "k-tcp", f"update add {EXAMPLE} 300 NS ns2.example.com.")
    assert server.query(EXAMPLE, "NS") == ns
    # An SOA with a lower serial is ignored; a higher one replaces the SOA.
    serial = server.serial()
    soa = "ns1.example.com. hostmaster.example.com. {} 3600 600 86400 {}"
    ok(server, key, "k-tcp", f"update add {EXAMPLE} 300 SOA {soa.format(serial - 1, 30)}")
    assert server.query(EXAMPLE, "SOA")[0].endswith(" 60")
    ok(server, key, "k-tcp", f"update add {EXAMPLE} 300 SOA {soa.format(serial + 100, 30)}")
    assert server.query(EXAMPLE, "SOA") == [soa.format(serial + 100, 30)]
    # Deleting the SOA is ignored.
    ok(server, key, "k-tcp", f"update delete {EXAMPLE} SOA")
    assert server.query(EXAMPLE, "SOA") == [soa.format(serial + 100, 30)]


def test_zone_found_by_signed_soa_query(server: UpdateServer, key: Key) -> None:
    # Without a zone line nsupdate asks, signed, for the SOA of the name, and
    # refuses to go on unless the reply is signed with the same key.
    rc, out = nsupdate(
        server, key, "k-udp", "update add found.example.com 60 A 192.0.2.50", zone=None
    )
    assert rc == 0, out
    assert server.query("found.example.com") == ["192.0.2.50"]


@pytest.mark.parametrize(
    "algorithm",
    ["hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"],
)
def test_every_algorithm(server: UpdateServer, algorithm: str) -> None:
    key = server.add_key(f"alg-{algorithm}", f"{algorithm}.example.com", algorithm=algorithm)
    assert key.algorithm == algorithm
    for mode in ("y-udp", "k-tcp"):
        ok(server, key, mode, f'update add {algorithm}.example.com 60 TXT "{mode}"')
        assert f'"{mode}"' in server.query(f"{algorithm}.example.com", "TXT")


def test_notzone_and_notauth(server: UpdateServer, key: Key) -> None:
    # A record outside the zone named in the zone section: NOTZONE.
    fails(server, key, "k-tcp", "update add www.example.net 60 A 192.0.2.60", "NOTZONE")
    # A record in the child zone acme.example.com, sent to example.com: NOTZONE.
    fails(server, key, "k-tcp", "update add x.acme.example.com 60 A 192.0.2.60", "NOTZONE")
    # The delegation point of that child zone belongs to example.com, though.
    ok(server, key, "k-tcp", "update add acme.example.com 300 NS ns2.example.com.")
    assert "+ acme.example.com. 300 IN NS ns2.example.com." in server.journal(EXAMPLE)
    ok(server, key, "k-tcp", "update delete acme.example.com NS ns2.example.com.")
    # A zone we do not serve: NOTAUTH.
    rc, out = nsupdate(
        server, key, "k-tcp", "update add www.example.net 60 A 192.0.2.60", zone="example.net"
    )
    assert rc != 0 and "NOTAUTH" in out, out


def test_unsigned_update_is_refused(server: UpdateServer) -> None:
    before = server.serial()
    script = (
        f"server 127.0.0.1 {server.port}\nzone {EXAMPLE}\n"
        "update add unsigned.example.com 60 A 192.0.2.70\nsend\n"
    )
    done = subprocess.run(["nsupdate"], input=script, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0 and "REFUSED" in done.stdout + done.stderr
    assert server.serial() == before


def test_unsigned_update_from_an_allowed_network(tmp_path: Path) -> None:
    need_peer("nsupdate")
    dz = start_update_server(tmp_path, zone_settings='allow_update = ["127.0.0.0/8"]')
    try:
        script = (
            f"server 127.0.0.1 {dz.port}\nzone {EXAMPLE}\n"
            "update add unsigned.example.com 60 A 192.0.2.70\nsend\n"
        )
        done = subprocess.run(
            ["nsupdate"], input=script, capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert dz.query("unsigned.example.com") == ["192.0.2.70"]
        assert "by address:127.0.0.1" in dz.journal()
        # Still not the apex NS, which no grant without types covers.
        script = script.replace("unsigned.example.com 60 A 192.0.2.70", "example.com 60 NS x.")
        done = subprocess.run(
            ["nsupdate"], input=script, capture_output=True, text=True, timeout=30
        )
        assert "REFUSED" in done.stdout + done.stderr
    finally:
        dz.stop()
