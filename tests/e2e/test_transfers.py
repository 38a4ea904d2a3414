"""AXFR and IXFR as clients see them (dig, kdig, dnspython): journal cases and denials.

dynzone serves example.com with ``allow_transfer = ["key:xfr", "::1/128"]``
and ``journal_limit = 4``, so the journal reaches back four changes only.
A second server has no ``allow_transfer`` at all: transfers are refused by
default.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import dns.update
import pytest

from tests.conftest import need_peer
from tests.e2e import zone_sets
from tests.e2e.update_server import EXAMPLE, Key, UpdateServer, start_update_server

SETTINGS = 'allow_transfer = ["key:xfr", "::1/128"]\njournal_limit = 4\n'


@pytest.fixture(scope="module")
def primary(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpdateServer]:
    srv = start_update_server(tmp_path_factory.mktemp("transfers"), SETTINGS)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def keys(primary: UpdateServer) -> dict[str, Key]:
    return {"xfr": primary.add_key("xfr"), "upd": primary.add_key("upd", f"*.{EXAMPLE}")}


def _keyring(key: Key, secret: str | None = None) -> dict[object, dns.tsig.Key]:
    return dns.tsigkeyring.from_text({key.name: (key.algorithm, secret or key.secret)})


def _update(primary: UpdateServer, key: Key, name: str, text: str) -> int:
    """Replace the TXT of ``name`` (relative to the zone); returns the new serial."""
    up = dns.update.UpdateMessage(EXAMPLE, keyring=_keyring(key), keyname=key.name)
    up.replace(name, 300, "TXT", f'"{text}"')
    r = dns.query.tcp(up, "127.0.0.1", port=primary.port, timeout=10)
    assert r.rcode() == dns.rcode.NOERROR
    return primary.serial()


def _dig(primary: UpdateServer, key: Key, *args: str) -> list[list[str]]:
    """dig's answer records (TSIG left out) as [owner, ttl, class, type, rdata...] lists."""
    argv = ["dig", "@127.0.0.1", "-p", str(primary.port), "-y"]
    argv += [f"hmac-sha256:{key.name}:{key.secret}", "+nocmd", "+nostats", "+noall", "+answer"]
    done = subprocess.run([*argv, *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr + done.stdout
    rows = [line.split() for line in done.stdout.splitlines() if line and line[0] != ";"]
    return [r for r in rows if r[3] != "TSIG"]


def _soa_serial(row: list[str]) -> int:
    assert row[3] == "SOA", row
    return int(row[6])


def _export(primary: UpdateServer) -> set[str]:
    """``dynzone zone export`` as a set of record lines (zone_sets.py)."""
    done = primary.cli("zone", "export", EXAMPLE)
    assert done.returncode == 0, done.stderr
    return zone_sets.from_text(done.stdout, EXAMPLE)


def test_ixfr_journal_cases_with_dig(primary: UpdateServer, keys: dict[str, Key]) -> None:
    need_peer("dig")
    xfr, upd = keys["xfr"], keys["upd"]
    start = primary.serial()
    s1 = _update(primary, upd, "a", "one")
    _update(primary, upd, "a", "two")
    s3 = _update(primary, upd, "b", "three")

    # Current: the SOA alone.
    rows = _dig(primary, xfr, EXAMPLE, f"IXFR={s3}")
    assert len(rows) == 1 and _soa_serial(rows[0]) == s3

    # A few changes behind: one condensed difference. a's "one" was replaced
    # by "two" (the "one" in between cancels out); b is new.
    rows = _dig(primary, xfr, EXAMPLE, f"IXFR={s1}")
    serials = [_soa_serial(r) for r in rows if r[3] == "SOA"]
    assert serials == [s3, s1, s3, s3], rows
    second_soa = [i for i, r in enumerate(rows) if r[3] == "SOA"][2]
    removed, added = (
        zone_sets.from_rows(rows[2:second_soa]),
        zone_sets.from_rows(rows[second_soa + 1 : -1]),
    )
    assert removed == {f'a.{EXAMPLE}. 300 TXT "one"'}
    assert added == {f'a.{EXAMPLE}. 300 TXT "two"', f'b.{EXAMPLE}. 300 TXT "three"'}

    # The same over UDP fits in one datagram.
    assert _dig(primary, xfr, EXAMPLE, f"IXFR={s1}", "+notcp") == rows

    # Beyond the journal (4 entries kept): the whole zone, AXFR style.
    for i in range(4):
        last = _update(primary, upd, f"c{i}", f"more {i} " + "x" * 200)
    rows = _dig(primary, xfr, EXAMPLE, f"IXFR={start}")
    assert _soa_serial(rows[0]) == last and _soa_serial(rows[-1]) == last
    assert zone_sets.from_rows(rows[:-1]) == _export(primary)
    # ... which does not fit in a 512-byte datagram: the SOA alone, "ask over TCP".
    udp = _ask(primary, "IXFR", tcp=False, key=xfr, soa_serial=start)
    assert [(rrset.rdtype, rrset[0].serial) for rrset in udp.answer] == [(dns.rdatatype.SOA, last)]

    # A serial in the future: the SOA alone.
    rows = _dig(primary, xfr, EXAMPLE, f"IXFR={last + 1000}")
    assert len(rows) == 1 and _soa_serial(rows[0]) == last
    assert "IXFR of example.com." in primary.server.log_text()


def test_axfr_with_kdig_is_signed_and_equals_export(
    primary: UpdateServer, keys: dict[str, Key]
) -> None:
    kdig = need_peer("kdig")
    key = keys["xfr"]
    argv = [kdig, "@127.0.0.1", "-p", str(primary.port)]
    argv += ["-y", f"hmac-sha256:{key.name}:{key.secret}", EXAMPLE, "AXFR", "+noall", "+answer"]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # kdig checks every message's TSIG and reports a failure as an error.
    trouble = done.stdout + done.stderr
    assert done.returncode == 0 and "ERROR" not in trouble and "WARNING" not in trouble, trouble
    rows = [line.split() for line in done.stdout.splitlines() if line and line[0] != ";"]
    rows = [r for r in rows if r[3] != "TSIG"]
    assert rows[0][3] == "SOA" and rows[-1][3] == "SOA"
    assert zone_sets.from_rows(rows[:-1]) == _export(primary)


def _ask(
    primary: UpdateServer,
    rdtype: str,
    *,
    tcp: bool = True,
    host: str = "127.0.0.1",
    key: Key | None = None,
    secret: str | None = None,
    soa_serial: int | None = None,
) -> dns.message.Message:
    q = dns.message.make_query(EXAMPLE, dns.rdatatype.from_text(rdtype))
    if soa_serial is not None:
        q.authority.append(
            dns.rrset.from_text(f"{EXAMPLE}.", 0, "IN", "SOA", f". . {soa_serial} 0 0 0 0")
        )
    if key is not None:
        q.use_tsig(_keyring(key, secret), keyname=key.name)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(q, host, port=primary.port, timeout=10)


def _nothing_leaks(r: dns.message.Message) -> None:
    assert not r.answer and not r.authority, r
    assert all(rrset.rdtype in (dns.rdatatype.OPT, dns.rdatatype.TSIG) for rrset in r.additional)


@pytest.mark.parametrize("tcp", [True, False], ids=["tcp", "udp"])
@pytest.mark.parametrize("rdtype", ["AXFR", "IXFR"])
def test_unsigned_transfer_from_an_address_not_allowed_is_refused(
    primary: UpdateServer, rdtype: str, tcp: bool
) -> None:
    r = _ask(primary, rdtype, tcp=tcp, soa_serial=1 if rdtype == "IXFR" else None)
    assert r.rcode() == dns.rcode.REFUSED
    _nothing_leaks(r)


def test_a_valid_key_not_in_allow_transfer_is_refused_signed(
    primary: UpdateServer, keys: dict[str, Key]
) -> None:
    r = _ask(primary, "AXFR", key=keys["upd"])  # dnspython checks the reply's MAC
    assert r.rcode() == dns.rcode.REFUSED and r.had_tsig
    _nothing_leaks(r)


def test_a_wrong_secret_gets_badsig(primary: UpdateServer, keys: dict[str, Key]) -> None:
    with pytest.raises(dns.tsig.PeerBadSignature):
        _ask(
            primary, "AXFR", key=keys["xfr"], secret="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        )


def test_an_unknown_key_gets_badkey(primary: UpdateServer, keys: dict[str, Key]) -> None:
    stranger = Key(
        "stranger",
        "hmac-sha256",
        keys["xfr"].secret,
        keys["xfr"].key_file,
        keys["xfr"].certbot_file,
    )
    with pytest.raises(dns.tsig.PeerBadKey):
        _ask(primary, "IXFR", key=stranger, soa_serial=1)


def test_an_allowed_network_transfers_unsigned(primary: UpdateServer) -> None:
    r = _ask(primary, "IXFR", host="::1", soa_serial=primary.serial())
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    assert [rrset.rdtype for rrset in r.answer] == [dns.rdatatype.SOA]


def test_axfr_over_udp_is_formerr_even_when_allowed(
    primary: UpdateServer, keys: dict[str, Key]
) -> None:
    r = _ask(primary, "AXFR", tcp=False, key=keys["xfr"])
    assert r.rcode() == dns.rcode.FORMERR
    _nothing_leaks(r)


def test_ixfr_without_the_clients_soa_is_formerr(
    primary: UpdateServer, keys: dict[str, Key]
) -> None:
    r = _ask(primary, "IXFR", key=keys["xfr"])
    assert r.rcode() == dns.rcode.FORMERR


def test_transfer_of_a_zone_not_served_is_notauth(
    primary: UpdateServer, keys: dict[str, Key]
) -> None:
    q = dns.message.make_query("example.org", dns.rdatatype.AXFR)
    q.use_tsig(_keyring(keys["xfr"]), keyname="xfr")
    r = dns.query.tcp(q, "127.0.0.1", port=primary.port, timeout=10)
    assert r.rcode() == dns.rcode.NOTAUTH
    _nothing_leaks(r)


def test_transfers_are_refused_by_default(tmp_path_factory: pytest.TempPathFactory) -> None:
    srv = start_update_server(tmp_path_factory.mktemp("no-transfers"))
    try:
        key = srv.add_key("xfr")
        for host in ("127.0.0.1", "::1"):
            r = _ask(srv, "AXFR", host=host)
            assert r.rcode() == dns.rcode.REFUSED
            _nothing_leaks(r)
        r = _ask(srv, "AXFR", key=key)
        assert r.rcode() == dns.rcode.REFUSED and r.had_tsig
        _nothing_leaks(r)
    finally:
        srv.stop()


def _notify(primary: UpdateServer, zone: str, host: str, key: Key | None = None) -> int:
    q = dns.message.make_query(zone, dns.rdatatype.SOA)
    q.flags = dns.flags.AA
    q.set_opcode(dns.opcode.NOTIFY)  # after: the opcode lives in the flags
    if key is not None:
        q.use_tsig(_keyring(key), keyname=key.name)
    r = dns.query.udp(q, host, port=primary.port, timeout=5)
    assert r.opcode() == dns.opcode.NOTIFY
    return r.rcode()


def test_incoming_notify(primary: UpdateServer, keys: dict[str, Key]) -> None:
    serial = primary.serial()
    # From a known source (allow_transfer's network, or its key): answered, ignored.
    assert _notify(primary, EXAMPLE, "::1") == dns.rcode.NOERROR
    assert _notify(primary, EXAMPLE, "127.0.0.1", keys["xfr"]) == dns.rcode.NOERROR
    # From anyone else: REFUSED. A zone we do not serve: NOTAUTH.
    assert _notify(primary, EXAMPLE, "127.0.0.1") == dns.rcode.REFUSED
    assert _notify(primary, EXAMPLE, "127.0.0.1", keys["upd"]) == dns.rcode.REFUSED
    assert _notify(primary, "example.org", "::1") == dns.rcode.NOTAUTH
    assert primary.serial() == serial
