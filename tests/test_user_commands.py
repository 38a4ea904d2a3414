"""``dynzone user`` commands: clear errors, passwords shown once, grants listed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CONFIG = """\
data_dir = "data"
[[zone]]
name = "dyn.example.com"
ns = ["ns1.example.com."]
email = "hostmaster@example.com"
"""


def dynzone(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    config = tmp_path / "dynzone.toml"
    if not config.exists():
        config.write_text(CONFIG)
    argv = [sys.executable, "-m", "dynzone", *args, "--config", str(config)]
    return subprocess.run(
        argv, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def test_add_prints_a_generated_password_once_and_list_shows_the_hosts(tmp_path: Path) -> None:
    done = dynzone(
        tmp_path,
        "user",
        "add",
        "alice",
        "--host",
        "home.dyn.example.com",
        "--host",
        "*.lab.dyn.example.com",
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.split("password: ")[1].strip()) >= 20
    listed = dynzone(tmp_path, "user", "list")
    assert listed.stdout == "alice: home.dyn.example.com., *.lab.dyn.example.com.\n"
    again = dynzone(tmp_path, "user", "passwd", "alice", "--password-stdin", stdin="new-pw\n")
    assert again.returncode == 0 and "password:" not in again.stdout


def test_user_mistakes_get_one_clear_line(tmp_path: Path) -> None:
    dynzone(
        tmp_path,
        "user",
        "add",
        "bob",
        "--host",
        "bob.dyn.example.com",
        "--password-stdin",
        stdin="x\n",
    )
    cases = [
        (("user", "add", "bob", "--host", "bob.dyn.example.com"), "user bob already exists"),
        (("user", "add", "carol", "--host", "*"), "use an exact name"),
        (("user", "add", "carol", "--host", "a..b.example.com"), "is not a domain name"),
        (("user", "remove", "nobody"), "no user nobody"),
        (("user", "passwd", "nobody"), "no user nobody"),
        (("zone", "export", "nowhere.example"), "zone nowhere.example. is not in the store"),
    ]
    for args, message in cases:
        done = dynzone(tmp_path, *args)
        assert done.returncode == 1, args
        assert message in done.stderr and "Traceback" not in done.stderr, done.stderr
    empty = dynzone(
        tmp_path,
        "user",
        "add",
        "dave",
        "--host",
        "d.dyn.example.com",
        "--password-stdin",
        stdin="\n",
    )
    assert empty.returncode == 1 and "the password is empty" in empty.stderr


def test_a_host_outside_every_zone_is_added_with_a_warning(tmp_path: Path) -> None:
    done = dynzone(tmp_path, "user", "add", "eve", "--host", "x.elsewhere.org")
    assert done.returncode == 0
    assert "x.elsewhere.org. is in none of the configured zones" in done.stderr
