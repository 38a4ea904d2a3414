"""``dynzone key`` commands: the printed key file and credentials, grants, clear errors."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = """\
data_dir = "data"
[dns]
listen = ["0.0.0.0:5300"]
[[zone]]
name = "example.com"
ns = ["ns1.example.com."]
email = "hostmaster@example.com"
"""


def dynzone(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "dynzone.toml"
    if not config.exists():
        config.write_text(CONFIG)
    argv = [sys.executable, "-m", "dynzone", *args, "--config", str(config)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_add_prints_a_bind_key_file_and_certbot_credentials(tmp_path: Path) -> None:
    done = dynzone(tmp_path, "key", "add", "acme", "--grant", "_acme-challenge.example.com TXT")
    assert done.returncode == 0, done.stderr
    key = re.search(
        r'^key "acme" \{\n\talgorithm hmac-sha256;\n\tsecret "([^"]+)";\n\};$',
        done.stdout,
        re.M,
    )
    assert key, done.stdout
    assert len(base64.b64decode(key.group(1), validate=True)) == 32
    # Where clients send UPDATEs: the listener, with 0.0.0.0 made reachable.
    assert "dns_rfc2136_server = 127.0.0.1\ndns_rfc2136_port = 5300\n" in done.stdout
    assert "dns_rfc2136_name = acme\n" in done.stdout
    assert f"dns_rfc2136_secret = {key.group(1)}\n" in done.stdout
    # certbot only knows the upper-case spelling (anything else silently means MD5).
    assert "dns_rfc2136_algorithm = HMAC-SHA256\n" in done.stdout


def test_list_shows_algorithm_and_grants_and_remove_removes(tmp_path: Path) -> None:
    secret = base64.b64encode(b"s" * 20).decode()
    done = dynzone(
        tmp_path,
        "key",
        "add",
        "Certbot.Key",
        "--algorithm",
        "hmac-md5",
        "--secret",
        secret,
        "--grant",
        "_acme-challenge.example.com TXT",
        "--grant",
        "*.lab.example.com",
    )
    assert done.returncode == 0, done.stderr
    assert f'secret "{secret}"' in done.stdout
    listed = dynzone(tmp_path, "key", "list")
    assert listed.stdout == (
        "certbot.key hmac-md5: _acme-challenge.example.com. TXT; *.lab.example.com.\n"
    )
    assert dynzone(tmp_path, "key", "remove", "CERTBOT.key").returncode == 0
    assert dynzone(tmp_path, "key", "list").stdout == ""


@pytest.mark.parametrize(
    "args, message",
    [
        (["--grant", "x.example.com", "--secret", "not base64!"], "not valid base64"),
        (["--grant", "x.example.com", "--secret", "c2hvcnQ="], "too short"),
        (["--grant", "x.example.com ANY"], "query type"),
        (["--grant", "x.example.com NOTATYPE"], "not a record type"),
        (["--grant", "regex:^x$"], "not regex"),
        (["--grant", "com"], "too broad"),
        (["--grant", "x.example.com", "--algorithm", "hmac-sha3"], "invalid choice"),
    ],
)
def test_bad_input_gets_a_message_not_a_traceback(
    tmp_path: Path, args: list[str], message: str
) -> None:
    done = dynzone(tmp_path, "key", "add", "k", *args)
    assert done.returncode != 0
    assert message in done.stderr and "Traceback" not in done.stderr


def test_duplicate_and_missing_keys(tmp_path: Path) -> None:
    assert dynzone(tmp_path, "key", "add", "k", "--grant", "x.example.com").returncode == 0
    again = dynzone(tmp_path, "key", "add", "K", "--grant", "x.example.com")
    assert again.returncode == 1 and "already exists" in again.stderr
    gone = dynzone(tmp_path, "key", "remove", "nope")
    assert gone.returncode == 1 and "no key nope" in gone.stderr


def test_a_grant_outside_the_zones_warns(tmp_path: Path) -> None:
    done = dynzone(tmp_path, "key", "add", "k", "--grant", "x.example.net")
    assert done.returncode == 0
    assert "in none of the configured zones" in done.stderr
