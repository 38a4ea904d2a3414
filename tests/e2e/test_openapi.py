"""schemathesis against a live dynzone: every operation of /api/openapi.json, with
real credentials, and not one server error or response the description does not
allow."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.update_server import UpdateServer, start_update_server

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)


@pytest.fixture(scope="module")
def dz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpdateServer]:
    server = start_update_server(
        tmp_path_factory.mktemp("openapi"),
        http=True,
        extra='[acme_dns]\nzone = "acme.example.com"\nregister_from = ["127.0.0.0/8"]\n'
        "txt_ttl = 30\n",
    )
    try:
        yield server
    finally:
        server.stop()


def test_the_description_names_every_api(dz: UpdateServer) -> None:
    url = f"http://127.0.0.1:{dz.http_port}/api/openapi.json"
    with urllib.request.urlopen(url, timeout=10) as reply:
        document = json.load(reply)
    assert document["openapi"].startswith("3.")
    for path in ("/nic/update", "/register", "/update", "/api/v1/servers/localhost/zones/{zone}",
                 "/api/zones/{zone}/status", "/health", "/metrics"):  # fmt: skip
        assert path in document["paths"], path


def test_schemathesis_finds_no_failures(dz: UpdateServer, tmp_path: Path) -> None:
    done = dz.cli("user", "add", "fuzz", "--host", "*.example.com")
    assert done.returncode == 0, done.stderr
    password = re.search(r"^password: (\S+)$", done.stdout, re.M)
    assert password
    token = dz.add_token("fuzz", "*.example.com")
    account = dz.acme_register()
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        f"""\
[auth]
basic = {{ username = "fuzz", password = "{password.group(1)}" }}

[parameters]
"path.zone" = "example.com."
"path.server" = "localhost"
"header.X-Api-User" = "{account["username"]}"
"header.X-Api-Key" = "{account["password"]}"
"body.subdomain" = "{account["subdomain"]}"

[[operations]]
include-path-regex = "^/api(/v1|$)"
headers = {{ X-API-Key = "{token}" }}
"""
    )
    exe = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
    argv = [
        exe, "--config-file", str(config), "run",
        f"http://127.0.0.1:{dz.http_port}/api/openapi.json",
        "--checks", CHECKS, "--max-examples", "100", "--workers", "2", "--seed", "1",
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    cases = re.search(r"(\d+) generated, (\d+) passed", out)
    assert cases, out
    assert int(cases.group(1)) == int(cases.group(2)) > 500, out
    # The calls reached what they are for, not only the doors' refusals.
    journal = dz.journal("acme.example.com")
    assert f"by acme:{account['username']}" in journal
