"""``dynzone token`` commands: the key printed once, the listing, clear errors."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from dynzone.store import open_store
from dynzone.tokens import Refused, check_key
from tests.test_key_commands import dynzone  # the same config: zone example.com


def test_add_prints_a_key_that_works_and_list_describes_the_token(tmp_path: Path) -> None:
    done = dynzone(
        tmp_path,
        "token", "add", "lab",
        "--grant", "*.lab.example.com A",
        "--from", "192.0.2.0/24",
        "--expires", "90d",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "# token lab added, may change: *.lab.example.com. A" in done.stdout
    assert "# usable from: 192.0.2.0/24" in done.stdout
    key = re.search(r"^(lab\.[A-Za-z0-9_-]{43,})$", done.stdout, re.M)
    assert key, done.stdout
    store = open_store(tmp_path / "data")
    try:
        identity = check_key(store, key.group(1), ipaddress.ip_address("192.0.2.1"))
        assert not isinstance(identity, Refused) and identity.name == "token:lab"
    finally:
        store.close()
    listed = dynzone(tmp_path, "token", "list")
    assert listed.returncode == 0, listed.stderr
    assert re.match(
        r"lab: \*\.lab\.example\.com\. A; from 192\.0\.2\.0/24; expires 20", listed.stdout
    )


def test_a_token_without_grants_is_read_only_and_remove_removes(tmp_path: Path) -> None:
    assert dynzone(tmp_path, "token", "add", "reader").returncode == 0
    assert (
        "reader: (read only); from any client; never expires"
        in dynzone(tmp_path, "token", "list").stdout
    )
    done = dynzone(tmp_path, "token", "remove", "reader")
    assert done.returncode == 0 and "token reader removed" in done.stdout
    assert dynzone(tmp_path, "token", "list").stdout == ""


def test_mistakes_get_one_line_each(tmp_path: Path) -> None:
    cases = {
        ("add", "x", "--from", "10.0.0.0/99"): "--from '10.0.0.0/99' is not a network",
        ("add", "x", "--expires", "later"): "--expires 'later' is not a duration",
        ("add", "x", "--grant", "example"): "too broad",
        ("add", "x y"): "not a usable token name",
        ("remove", "nobody"): "no token nobody",
    }
    for args, message in cases.items():
        done = dynzone(tmp_path, "token", *args)
        assert done.returncode == 1, args
        assert done.stderr.startswith("dynzone: error: ") and message in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
