"""The acme-dns API against a running dynzone, with curl and DNS queries: the
replies acme-dns clients read, any number of values, deletion, expiry, the
right negative answers, and a NOTIFY for every change."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from tests.e2e.update_server import UpdateServer, start_update_server
from tests.peers import free_port, wait_until

TXT_TTL = 4
VALUES = [c * 43 for c in "abc"]


@pytest.fixture(scope="module")
def notified() -> Iterator[socket.socket]:
    """A UDP socket standing in for a secondary: it collects dynzone's NOTIFYs."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", free_port()))
    sock.settimeout(0.2)
    try:
        yield sock
    finally:
        sock.close()


@pytest.fixture(scope="module")
def dz(tmp_path_factory: pytest.TempPathFactory, notified: socket.socket) -> Iterator[UpdateServer]:
    port = notified.getsockname()[1]
    server = start_update_server(
        tmp_path_factory.mktemp("acme-dns-api"),
        zone_settings=f'dynamic_ttl = 20\nnotify = ["127.0.0.1:{port}"]\n',
        http=True,
        extra='[acme_dns]\nzone = "acme.example.com"\nregister_from = ["127.0.0.0/8"]\n'
        f"txt_ttl = {TXT_TTL}\n",
    )
    try:
        yield server
    finally:
        server.stop()


def curl(
    dz: UpdateServer, method: str, path: str, body: str | None = None, **headers: str
) -> tuple[int, dict[str, object]]:
    argv = ["curl", "-sS", "-X", method, "-w", "\n%{http_code}"]
    for key, value in headers.items():
        argv += ["-H", f"{key.replace('_', '-')}: {value}"]
    if body is not None:
        argv += ["--data-binary", body]
    argv.append(f"http://127.0.0.1:{dz.http_port}{path}")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)
    text, _, status = done.stdout.rpartition("\n")
    return int(status), json.loads(text) if text.strip() else {}


def update(
    dz: UpdateServer, account: dict[str, str], txt: str, method: str = "POST", **override: str
) -> tuple[int, dict[str, object]]:
    body = json.dumps({"subdomain": override.get("subdomain", account["subdomain"]), "txt": txt})
    return curl(
        dz,
        method,
        "/update",
        body,
        X_Api_User=override.get("user", account["username"]),
        X_Api_Key=override.get("key", account["password"]),
    )


def ask(dz: UpdateServer, name: str, rdtype: str) -> dns.message.Message:
    query = dns.message.make_query(name, dns.rdatatype.from_text(rdtype))
    return dns.query.udp(query, "127.0.0.1", port=dz.port, timeout=3)


def notifies_for(sock: socket.socket, zone: str) -> int:
    """How many NOTIFYs for ``zone`` arrived (answering each, as a secondary does)."""
    count = 0
    while True:
        try:
            wire, peer = sock.recvfrom(4096)
        except TimeoutError:
            return count
        message = dns.message.from_wire(wire)
        if message.opcode() == dns.opcode.NOTIFY:
            sock.sendto(dns.message.make_response(message).to_wire(), peer)
            count += message.question[0].name == dns.name.from_text(zone)


def test_registration_answers_as_acme_dns_does(dz: UpdateServer) -> None:
    status, account = curl(dz, "POST", "/register")
    assert status == 201
    assert list(account) == ["username", "password", "fulldomain", "subdomain", "allowfrom"]
    assert account["fulldomain"] == f"{account['subdomain']}.acme.example.com"
    assert account["allowfrom"] == []
    status, bound = curl(dz, "POST", "/register", '{"allowfrom": ["192.0.2.0/24"]}')
    assert (status, bound["allowfrom"]) == (201, ["192.0.2.0/24"])
    assert curl(dz, "POST", "/register", '{"allowfrom": ["nonsense"]}') == (
        400,
        {"error": "invalid_allowfrom_cidr"},
    )
    assert curl(dz, "POST", "/register", "{nope") == (400, {"error": "malformed_json_payload"})
    assert curl(dz, "GET", "/health")[0] == 200


def test_values_add_up_are_deleted_one_by_one_and_are_notified(
    dz: UpdateServer, notified: socket.socket
) -> None:
    _, account = curl(dz, "POST", "/register")
    name = str(account["fulldomain"])
    notifies_for(notified, "acme.example.com")  # forget those of earlier changes
    for value in VALUES:
        assert update(dz, account, value) == (200, {"txt": value})  # type: ignore[arg-type]
    reply = ask(dz, name, "TXT")
    assert sorted(rd.to_text() for rr in reply.answer for rd in rr) == [f'"{v}"' for v in VALUES]
    assert {rr.ttl for rr in reply.answer} == {20}  # the zone's dynamic_ttl
    assert reply.flags & dns.flags.AA
    # Another type at the name: NOERROR, no data, the SOA to cache it by.
    other = ask(dz, name, "A")
    assert other.rcode() == dns.rcode.NOERROR and not other.answer
    assert [rr.rdtype for rr in other.authority] == [dns.rdatatype.SOA]
    assert update(dz, account, VALUES[1], "DELETE") == (200, {"txt": VALUES[1]})  # type: ignore[arg-type]
    assert dz.query(name, "TXT") == [f'"{VALUES[0]}"', f'"{VALUES[2]}"']
    assert wait_until(lambda: notifies_for(notified, "acme.example.com") >= 1)
    journal = dz.journal("acme.example.com")
    assert journal.count(f"by acme:{account['username']}") == 4


def test_values_end_after_txt_ttl_and_the_name_is_then_nxdomain(dz: UpdateServer) -> None:
    _, account = curl(dz, "POST", "/register")
    name = str(account["fulldomain"])
    assert dz.rcode(name, "TXT") == "NXDOMAIN"  # registered, but no value yet
    assert update(dz, account, VALUES[0])[0] == 200  # type: ignore[arg-type]
    assert dz.query(name, "TXT") == [f'"{VALUES[0]}"']
    assert wait_until(lambda: dz.query(name, "TXT") == [], timeout=TXT_TTL + 10)
    reply = ask(dz, name, "TXT")
    assert reply.rcode() == dns.rcode.NXDOMAIN
    assert [rr.rdtype for rr in reply.authority] == [dns.rdatatype.SOA]
    assert "by dynzone:expiry" in dz.journal("acme.example.com")


def test_wrong_credentials_and_bodies_get_acme_dns_errors(dz: UpdateServer) -> None:
    _, account = curl(dz, "POST", "/register")
    _, other = curl(dz, "POST", "/register")
    _, bound = curl(dz, "POST", "/register", '{"allowfrom": ["192.0.2.0/24"]}')
    value = VALUES[0]
    forbidden = (401, {"error": "forbidden"})
    assert update(dz, account, value, key="wrong") == forbidden  # type: ignore[arg-type]
    assert update(dz, account, value, user=str(other["username"])) == forbidden  # type: ignore[arg-type]
    # Another account's name, with this account's credentials.
    assert update(dz, account, value, subdomain=str(other["subdomain"])) == forbidden  # type: ignore[arg-type]
    # An account bound to 192.0.2.0/24, used from 127.0.0.1.
    assert update(dz, bound, value) == forbidden  # type: ignore[arg-type]
    assert update(dz, account, "short") == (400, {"error": "bad_txt"})  # type: ignore[arg-type]
    assert update(dz, account, value, subdomain="x") == (400, {"error": "bad_subdomain"})  # type: ignore[arg-type]
    assert curl(
        dz,
        "POST",
        "/update",
        "{nope",
        X_Api_User=str(account["username"]),
        X_Api_Key=str(account["password"]),
    ) == (400, {"error": "malformed_json_payload"})
    for acct in (account, other, bound):
        assert dz.rcode(str(acct["fulldomain"]), "TXT") == "NXDOMAIN"  # nothing was written
