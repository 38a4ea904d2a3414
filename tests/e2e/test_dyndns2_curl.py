"""The dyndns2 API driven by real curl: every reply word, proxies, atomic lists, bad input.

Each check reads the answer back over DNS right after the HTTP reply: the new
record must already be served when the reply arrives.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from tests.conftest import need_peer
from tests.e2e.dyndns_server import OTHER_ZONE, ZONE, Dynzone, start

PW = {"alice": "alice-secret-1", "bob": "bob-secret-2"}


@pytest.fixture(scope="module")
def dz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dynzone]:
    need_peer("curl")
    server = start(
        tmp_path_factory.mktemp("dyndns2"),
        http='trusted_proxies = ["127.0.0.1/32"]\n'
        "updates_per_host_per_minute = 4\nfailed_logins_per_minute = 2",
    )
    try:
        server.add_user(
            "alice",
            PW["alice"],
            f"alice.{ZONE}",
            f"*.lab.{ZONE}",
            f"alias.{ZONE}",
            f"deep.sub.{ZONE}",
            "host.unserved.example.org",
            f"*.{OTHER_ZONE}",
        )
        server.add_user("bob", PW["bob"], f"bob.{ZONE}")
        yield server
    finally:
        server.stop()


def alice(dz: Dynzone, query: str, *extra: str) -> tuple[int, str]:
    return dz.curl(query, "alice", PW["alice"], *extra)


def test_good_then_nochg_and_the_answer_is_served_before_the_reply(dz: Dynzone) -> None:
    serial = dz.soa_serial()
    assert alice(dz, f"hostname=alice.{ZONE}&myip=192.0.2.10") == (200, "good 192.0.2.10")
    assert dz.query(f"alice.{ZONE}") == ["192.0.2.10"]
    assert dz.soa_serial() == serial + 1
    assert alice(dz, f"hostname=alice.{ZONE}&myip=192.0.2.10") == (200, "nochg 192.0.2.10")
    assert dz.soa_serial() == serial + 1


def test_dynamic_records_get_the_zones_dynamic_ttl(dz: Dynzone) -> None:
    import dns.message
    import dns.query

    assert alice(dz, f"hostname=ttl.lab.{ZONE}&myip=192.0.2.11")[0] == 200
    r = dns.query.udp(
        dns.message.make_query(f"ttl.lab.{ZONE}", "A"), "127.0.0.1", port=dz.dns_port, timeout=3
    )
    assert r.answer[0].ttl == 60


def test_one_family_never_erases_the_other(dz: Dynzone) -> None:
    host = f"dual.lab.{ZONE}"
    assert alice(dz, f"hostname={host}&myip=192.0.2.20") == (200, "good 192.0.2.20")
    assert alice(dz, f"hostname={host}&myipv6=2001:db8::20") == (200, "good 2001:db8::20")
    assert (dz.query(host), dz.query(host, "AAAA")) == (["192.0.2.20"], ["2001:db8::20"])
    assert alice(dz, f"hostname={host}&myip=192.0.2.21") == (200, "good 192.0.2.21")
    assert (dz.query(host), dz.query(host, "AAAA")) == (["192.0.2.21"], ["2001:db8::20"])
    assert alice(dz, f"hostname={host}&myip6=2001:db8::21") == (200, "good 2001:db8::21")
    assert (dz.query(host), dz.query(host, "AAAA")) == (["192.0.2.21"], ["2001:db8::21"])


def test_myip_with_both_families_as_ddclient_sends_it(dz: Dynzone) -> None:
    host = f"both.lab.{ZONE}"
    reply = alice(dz, f"hostname={host}&myip=192.0.2.22,2001:db8::22")
    assert reply == (200, "good 192.0.2.22,2001:db8::22")
    assert (dz.query(host), dz.query(host, "AAAA")) == (["192.0.2.22"], ["2001:db8::22"])


def test_offline_removes_both_families(dz: Dynzone) -> None:
    host = f"gone.lab.{ZONE}"
    alice(dz, f"hostname={host}&myip=192.0.2.23,2001:db8::23")
    assert alice(dz, f"hostname={host}&offline=YES") == (200, "good")
    assert (dz.query(host), dz.query(host, "AAAA")) == ([], [])
    assert alice(dz, f"hostname={host}&offline=YES") == (200, "nochg")


def test_no_address_uses_the_client_address_from_a_trusted_proxy(dz: Dynzone) -> None:
    host = f"proxied.lab.{ZONE}"
    reply = alice(dz, f"hostname={host}", "-H", "X-Forwarded-For: 203.0.113.5, 127.0.0.1")
    assert reply == (200, "good 203.0.113.5")
    assert dz.query(host) == ["203.0.113.5"]
    reply = alice(dz, f"hostname={host}", "-H", "X-Real-IP: 2001:db8::77")
    assert reply == (200, "good 2001:db8::77")
    assert dz.query(host, "AAAA") == ["2001:db8::77"]


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(dz: Dynzone) -> None:
    host = f"direct.lab.{ZONE}"
    # 127.0.0.2 is a loopback source address that is not in trusted_proxies.
    extra = ("--interface", "127.0.0.2", "-H", "X-Forwarded-For: 203.0.113.6")
    assert alice(dz, f"hostname={host}", *extra) == (200, "good 127.0.0.2")
    assert dz.query(host) == ["127.0.0.2"]
    status, body = dz.curl("", None, None, *extra[:2], path="/nic/checkip")
    assert status == 200 and "Current IP Address: 127.0.0.2" in body


def test_checkip_reports_the_address_dynzone_sees(dz: Dynzone) -> None:
    status, body = dz.curl(
        "", None, None, "-H", "X-Forwarded-For: 198.51.100.9", path="/nic/checkip"
    )
    assert status == 200 and "Current IP Address: 198.51.100.9" in body


def test_nohost_for_names_not_yours_or_not_served(dz: Dynzone) -> None:
    serial = dz.soa_serial()
    for host in (
        f"bob.{ZONE}",  # bob's, not alice's
        "host.unserved.example.org",  # granted, but no served zone holds it
        f"alias.{ZONE}",  # a CNAME cannot get addresses
        f"deep.sub.{ZONE}",  # below a delegation
    ):
        assert alice(dz, f"hostname={host}&myip=192.0.2.30") == (200, "nohost"), host
    assert dz.query(f"bob.{ZONE}") == []
    assert dz.soa_serial() == serial


def test_a_list_with_one_name_not_yours_changes_nothing(dz: Dynzone) -> None:
    alice(dz, f"hostname=list.lab.{ZONE}&myip=192.0.2.40")
    serial = dz.soa_serial()
    reply = alice(dz, f"hostname=list.lab.{ZONE},bob.{ZONE}&myip=192.0.2.41")
    assert reply == (200, "dnserr\nnohost")
    assert dz.query(f"list.lab.{ZONE}") == ["192.0.2.40"]
    assert dz.soa_serial() == serial


def test_a_list_across_two_zones_is_one_atomic_update(dz: Dynzone) -> None:
    serials = dz.soa_serial(), dz.soa_serial(OTHER_ZONE)
    names = f"multi.lab.{ZONE},multi.{OTHER_ZONE}"
    assert alice(dz, f"hostname={names}&myip=192.0.2.42") == (
        200,
        "good 192.0.2.42\ngood 192.0.2.42",
    )
    assert dz.query(f"multi.{OTHER_ZONE}") == ["192.0.2.42"]
    assert (dz.soa_serial(), dz.soa_serial(OTHER_ZONE)) == (serials[0] + 1, serials[1] + 1)


@pytest.mark.parametrize(
    "hostname",
    [
        "",
        "nodots",
        f"-bad.lab.{ZONE}",
        f"a..b.lab.{ZONE}",
        f"{'x' * 64}.lab.{ZONE}",
        f"sp%20ace.lab.{ZONE}",
    ],
)
def test_notfqdn_for_bad_names(dz: Dynzone, hostname: str) -> None:
    serial = dz.soa_serial()
    assert alice(dz, f"hostname={hostname}&myip=192.0.2.50") == (200, "notfqdn")
    assert dz.soa_serial() == serial


def test_numhost_for_more_than_20_names(dz: Dynzone) -> None:
    serial = dz.soa_serial()
    names = ",".join(f"n{i}.lab.{ZONE}" for i in range(21))
    assert alice(dz, f"hostname={names}&myip=192.0.2.51") == (200, "numhost")
    assert dz.query(f"n0.lab.{ZONE}") == []
    assert dz.soa_serial() == serial


@pytest.mark.parametrize(
    "myip", ["300.1.2.3", "192.0.2.1,192.0.2.2", "example.com", "2001:db8::1::2"]
)
def test_badip_for_addresses_that_are_not(dz: Dynzone, myip: str) -> None:
    serial = dz.soa_serial()
    assert alice(dz, f"hostname=badip.lab.{ZONE}&myip={myip}") == (400, "badip")
    assert dz.query(f"badip.lab.{ZONE}") == []
    assert dz.soa_serial() == serial


def test_a_huge_query_string_is_refused_and_changes_nothing(dz: Dynzone) -> None:
    serial = dz.soa_serial()
    status, _ = alice(dz, f"hostname=huge.lab.{ZONE}&myip=192.0.2.52&pad={'x' * 20000}")
    assert status in (400, 414)
    assert dz.query(f"huge.lab.{ZONE}") == []
    assert dz.soa_serial() == serial
    assert alice(dz, f"hostname=huge.lab.{ZONE}&myip=192.0.2.52") == (200, "good 192.0.2.52")


def test_badauth_with_401_and_a_challenge(dz: Dynzone) -> None:
    for user, password in (("alice", "wrong"), ("nobody", "x"), (None, None)):
        xff = ("-H", f"X-Forwarded-For: 192.0.2.{150 + len(user or '')}", "-D", "-")
        status, body = dz.curl(f"hostname=alice.{ZONE}&myip=192.0.2.60", user, password, *xff)
        assert status == 401
        assert 'WWW-Authenticate: Basic realm="dynzone"' in body
        assert body.rstrip().endswith("badauth")
    assert dz.query(f"alice.{ZONE}") != ["192.0.2.60"]


def test_abuse_after_too_many_failed_logins_from_one_address(dz: Dynzone) -> None:
    xff = ("-H", "X-Forwarded-For: 192.0.2.201")
    for _ in range(2):
        assert dz.curl(f"hostname=alice.{ZONE}", "alice", "wrong", *xff)[0] == 401
    # Even the right password is turned away now, from that address only.
    assert alice(dz, f"hostname=abuse1.lab.{ZONE}&myip=192.0.2.61", *xff) == (200, "abuse")
    assert dz.query(f"abuse1.lab.{ZONE}") == []
    other = ("-H", "X-Forwarded-For: 192.0.2.202")
    assert alice(dz, f"hostname=abuse1.lab.{ZONE}&myip=192.0.2.61", *other)[1] == "good 192.0.2.61"


def test_abuse_after_too_many_updates_of_one_host(dz: Dynzone) -> None:
    host = f"busy.lab.{ZONE}"
    for i in range(4):
        assert alice(dz, f"hostname={host}&myip=192.0.2.{70 + i}")[1].startswith("good")
    serial = dz.soa_serial()
    assert alice(dz, f"hostname={host}&myip=192.0.2.79") == (200, "abuse")
    assert dz.query(host) == ["192.0.2.73"]
    assert dz.soa_serial() == serial


def test_post_is_accepted_too(dz: Dynzone) -> None:
    status, body = alice(dz, "", "--data", f"hostname=post.lab.{ZONE}&myip=192.0.2.80")
    assert (status, body) == (200, "good 192.0.2.80")
    assert dz.query(f"post.lab.{ZONE}") == ["192.0.2.80"]


def test_dnserr_when_the_store_cannot_commit_and_nothing_changes(dz: Dynzone) -> None:
    serial = dz.soa_serial()
    db = dz.workdir / "data" / "dynzone.sqlite3"
    locker = sqlite3.connect(db, isolation_level=None, timeout=10)
    locker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        reply = alice(dz, f"hostname=locked.lab.{ZONE}&myip=192.0.2.90")
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert reply == (200, "dnserr")
    assert dz.query(f"locked.lab.{ZONE}") == []
    assert dz.soa_serial() == serial
    assert alice(dz, f"hostname=locked.lab.{ZONE}&myip=192.0.2.90") == (200, "good 192.0.2.90")
    assert "store failure, nothing changed" in dz.server.log_text()


def test_every_good_update_is_in_the_journal_with_who_and_from_where(dz: Dynzone) -> None:
    alice(
        dz, f"hostname=journal.lab.{ZONE}&myip=192.0.2.91", "-H", "X-Forwarded-For: 198.51.100.91"
    )
    done = dz.cli("zone", "journal", ZONE, "--last", "1")
    assert done.returncode == 0, done.stderr
    assert "by user:alice from 198.51.100.91" in done.stdout
    assert f"+ journal.lab.{ZONE}. 60 IN A 192.0.2.91" in done.stdout
    export = dz.cli("zone", "export", ZONE)
    assert "journal.lab 60 IN A 192.0.2.91" in export.stdout
