"""``dynzone acme-dns`` commands: the account printed once as /register gives it,
the listing, removal, and clear errors."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

from dynzone import acme_accounts
from dynzone.store import open_store
from dynzone.tokens import Refused
from tests.test_key_commands import CONFIG, dynzone

ACME = CONFIG + '[http]\nlisten = ["127.0.0.1:8053"]\n[acme_dns]\nzone = "example.com"\n'


def test_register_prints_the_account_and_list_and_remove_manage_it(tmp_path: Path) -> None:
    (tmp_path / "dynzone.toml").write_text(ACME)
    done = dynzone(tmp_path, "acme-dns", "register", "--allowfrom", "192.0.2.0/24", "2001:db8::/32")
    assert done.returncode == 0, done.stderr
    account = json.loads(done.stdout)
    assert account["fulldomain"] == account["subdomain"] + ".example.com"
    assert account["allowfrom"] == ["192.0.2.0/24", "2001:db8::/32"]
    store = open_store(tmp_path / "data")
    try:
        found = acme_accounts.check(
            store, account["username"], account["password"], ipaddress.ip_address("192.0.2.9")
        )
        assert not isinstance(found, Refused)
    finally:
        store.close()
    listed = dynzone(tmp_path, "acme-dns", "list")
    assert f"{account['username']}: {account['fulldomain']}; from 192.0.2.0/24" in listed.stdout
    assert dynzone(tmp_path, "acme-dns", "remove", account["username"]).returncode == 0
    assert account["username"] not in dynzone(tmp_path, "acme-dns", "list").stdout
    again = dynzone(tmp_path, "acme-dns", "remove", account["username"])
    assert again.returncode == 1 and "no acme-dns account" in again.stderr


def test_mistakes_get_one_line_not_a_traceback(tmp_path: Path) -> None:
    unset = dynzone(tmp_path, "acme-dns", "register")
    assert unset.returncode == 1 and "has no [acme_dns] table" in unset.stderr
    (tmp_path / "dynzone.toml").write_text(ACME)
    bad = dynzone(tmp_path, "acme-dns", "register", "--allowfrom", "lan")
    assert bad.returncode == 1 and "--allowfrom 'lan' is not a network" in bad.stderr
    for done in (unset, bad):
        assert "Traceback" not in done.stderr
