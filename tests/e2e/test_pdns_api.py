"""The PowerDNS-compatible zones API against a running dynzone, with curl: tokens
see and change only what their grants reach, all or nothing."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.dyndns_server import OTHER_ZONE, ZONE, Dynzone, start

ZONES = "/api/v1/servers/localhost/zones"


@pytest.fixture(scope="module")
def dz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dynzone]:
    server = start(tmp_path_factory.mktemp("pdns-api"))
    try:
        yield server
    finally:
        server.stop()


def token(dz: Dynzone, name: str, *args: str) -> str:
    done = dz.cli("token", "add", name, *args)
    assert done.returncode == 0, done.stderr
    found = re.search(rf"^({name}\.\S+)$", done.stdout, re.M)
    assert found, done.stdout
    return found.group(1)


def api(
    dz: Dynzone, method: str, path: str, key: str | None, body: object = None
) -> tuple[int, object]:
    """One request with curl; (status, JSON body or text or None)."""
    argv = ["curl", "-sS", "-X", method, "-o", "-", "-w", "\n%{http_code}", "--max-time", "20"]
    if key is not None:
        argv += ["-H", f"X-API-Key: {key}"]
    if body is not None:
        argv += ["-H", "Content-Type: application/json", "--data", json.dumps(body)]
    argv.append(dz.url(path))
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    text, _, status = done.stdout.rpartition("\n")
    try:
        return int(status), json.loads(text) if text else None
    except json.JSONDecodeError:
        return int(status), text


def rrset(name: str, rdtype: str, *contents: str, change: str = "REPLACE") -> dict[str, object]:
    return {
        "name": name,
        "type": rdtype,
        "ttl": 60,
        "changetype": change,
        "records": [{"content": c, "disabled": False} for c in contents],
    }


def test_a_token_sees_its_zones_and_changes_what_its_grants_reach(dz: Dynzone) -> None:
    key = token(dz, "lab", "--grant", f"*.lab.{ZONE} A")
    status, versions = api(dz, "GET", "/api", key)
    assert (status, versions) == (200, [{"url": "/api/v1", "version": 1}])
    status, zones = api(dz, "GET", ZONES, key)
    assert status == 200 and [z["name"] for z in zones] == [f"{ZONE}."]  # type: ignore[index, union-attr]
    status, _ = api(dz, "GET", f"{ZONES}/{OTHER_ZONE}.", key)
    assert status == 404
    before = dz.soa_serial()
    status, _ = api(
        dz,
        "PATCH",
        f"{ZONES}/{ZONE}.",
        key,
        {"rrsets": [rrset(f"pc.lab.{ZONE}.", "A", "192.0.2.44")]},
    )
    assert status == 204
    assert dz.query(f"pc.lab.{ZONE}") == ["192.0.2.44"]
    assert dz.soa_serial() == before + 1
    status, zone = api(dz, "GET", f"{ZONES}/{ZONE}.", key)
    assert status == 200
    found = [r for r in zone["rrsets"] if r["name"] == f"pc.lab.{ZONE}."]  # type: ignore[index]
    assert found == [
        {
            "name": f"pc.lab.{ZONE}.",
            "type": "A",
            "ttl": 60,
            "records": [{"content": "192.0.2.44", "disabled": False}],
            "comments": [],
        }
    ]
    journal = dz.cli("zone", "journal", ZONE).stdout
    assert "by token:lab" in journal


def test_one_rrset_outside_the_grants_changes_nothing(dz: Dynzone) -> None:
    key = token(dz, "lab2", "--grant", f"*.lab.{ZONE} A")
    before = dz.soa_serial()
    body = {
        "rrsets": [
            rrset(f"a.lab.{ZONE}.", "A", "192.0.2.45"),
            rrset(f"www.{ZONE}.", "A", "192.0.2.46"),  # outside the subtree
        ]
    }
    status, error = api(dz, "PATCH", f"{ZONES}/{ZONE}.", key, body)
    assert status == 403 and "token:lab2 may not change www" in error["error"]  # type: ignore[index]
    body = {
        "rrsets": [
            rrset(f"b.lab.{ZONE}.", "A", "192.0.2.47"),
            rrset(f"c.lab.{ZONE}.", "TXT", '"x"'),
        ]
    }
    status, _ = api(dz, "PATCH", f"{ZONES}/{ZONE}.", key, body)
    assert status == 403  # TXT is not granted
    status, error = api(
        dz,
        "PATCH",
        f"{ZONES}/{ZONE}.",
        key,
        {"rrsets": [rrset(f"d.lab.{ZONE}.", "A", "not-an-ip")]},
    )
    assert status == 422 and "not-an-ip" in error["error"]  # type: ignore[index]
    assert dz.soa_serial() == before
    assert dz.query(f"a.lab.{ZONE}") == [] and dz.query(f"b.lab.{ZONE}") == []


def test_delete_extend_and_prune(dz: Dynzone) -> None:
    key = token(dz, "lab3", "--grant", f"*.lab.{ZONE} A")
    path = f"{ZONES}/{ZONE}."
    name = f"multi.lab.{ZONE}."
    assert api(dz, "PATCH", path, key, {"rrsets": [rrset(name, "A", "192.0.2.1")]})[0] == 204
    add = rrset(name, "A", "192.0.2.2", "192.0.2.3", change="EXTEND")
    assert api(dz, "PATCH", path, key, {"rrsets": [add]})[0] == 204
    assert dz.query(name) == ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    prune = rrset(name, "A", "192.0.2.1", change="PRUNE")
    assert api(dz, "PATCH", path, key, {"rrsets": [prune]})[0] == 204
    assert dz.query(name) == ["192.0.2.2", "192.0.2.3"]
    assert api(dz, "PATCH", path, key, {"rrsets": [rrset(name, "A", change="DELETE")]})[0] == 204
    assert dz.query(name) == []


def test_missing_wrong_expired_and_foreign_keys_are_refused(dz: Dynzone) -> None:
    assert api(dz, "GET", ZONES, None)[0] == 401
    good = token(dz, "reader")
    assert api(dz, "GET", ZONES, good[:-1] + ("A" if good[-1] != "A" else "B"))[0] == 401
    far = token(dz, "far", "--from", "192.0.2.0/24")
    assert api(dz, "GET", ZONES, far)[0] == 401
    brief = token(dz, "brief", "--expires", "1")
    time.sleep(1.2)
    assert api(dz, "GET", ZONES, brief)[0] == 401
    # A token without grants reads every zone, and changes nothing.
    status, zones = api(dz, "GET", ZONES, good)
    assert status == 200 and {z["name"] for z in zones} == {f"{ZONE}.", f"{OTHER_ZONE}."}  # type: ignore[union-attr, index]
    body = {"rrsets": [rrset(f"x.{ZONE}.", "A", "192.0.2.9")]}
    assert api(dz, "PATCH", f"{ZONES}/{ZONE}.", good, body)[0] == 403


def test_export_and_notify(dz: Dynzone, tmp_path: Path) -> None:
    key = token(dz, "exporter", "--grant", f"*.{ZONE}")
    status, text = api(dz, "GET", f"{ZONES}/{ZONE}./export", key)
    assert status == 200 and isinstance(text, str) and text.startswith(f"$ORIGIN {ZONE}.")
    status, body = api(dz, "PUT", f"{ZONES}/{ZONE}./notify", key)
    assert status == 200 and body == {"result": "Notification queued"}
