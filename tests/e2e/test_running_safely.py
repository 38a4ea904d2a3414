"""Safe to leave running: a private store, one server per store, root dropped after binding."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.dyndns_server import ZONE, start, write_config
from tests.peers import free_port


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A work directory every local user may enter, as /srv or /var/lib would be."""
    path = Path(tempfile.mkdtemp(prefix="dynzone-safe-", dir="/tmp"))
    path.chmod(0o755)
    old = os.umask(0o022)
    try:
        yield path
    finally:
        os.umask(old)
        shutil.rmtree(path, ignore_errors=True)


def _as_nobody(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", "nobody", "--", *argv],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _need_root() -> None:
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs root and runuser (CI runs as root)")


def test_other_users_cannot_read_the_store(open_dir: Path) -> None:
    _need_root()
    dz = start(open_dir)
    try:
        dz.add_user("alice", "alice-secret-1", f"home.{ZONE}")
        q = f"hostname=home.{ZONE}&myip=192.0.2.31"
        assert dz.curl(q, "alice", "alice-secret-1") == (200, "good 192.0.2.31")
        data = open_dir / "data"
        assert data.stat().st_mode & 0o777 == 0o700
        files = [p for p in data.iterdir() if p.is_file()]
        assert any(p.name.endswith("-wal") for p in files), files
        for p in files:
            assert p.stat().st_mode & 0o077 == 0, f"{p.name} is {oct(p.stat().st_mode)}"
        for p in files:
            read = _as_nobody("cat", str(p))
            assert read.returncode != 0 and "Permission denied" in read.stderr, p.name
    finally:
        dz.stop()


def test_a_store_left_readable_is_made_private_at_start(open_dir: Path) -> None:
    dz = start(open_dir)
    dz.stop()
    data = open_dir / "data"
    data.chmod(0o755)
    (data / "dynzone.sqlite3").chmod(0o644)
    dz = start(open_dir, ports=(dz.dns_port, dz.http_port))
    try:
        assert data.stat().st_mode & 0o777 == 0o700
        assert (data / "dynzone.sqlite3").stat().st_mode & 0o777 == 0o600
        assert "was readable by other users; made private" in dz.server.log_text()
    finally:
        dz.stop()


def test_a_second_server_on_the_same_store_exits_with_a_clear_line(open_dir: Path) -> None:
    dz = start(open_dir)
    try:
        other = write_config(open_dir / "second", free_port(), free_port())
        text = other.read_text().replace('data_dir = "data"', f'data_dir = "{open_dir / "data"}"')
        other.write_text(text)
        done = subprocess.run(
            [sys.executable, "-m", "dynzone", "serve", "--config", str(other)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 1
        assert "another dynzone serve (pid " in done.stderr
        assert "already serving this store" in done.stderr
        assert "Traceback" not in done.stderr
        # The first one was not disturbed.
        assert dz.curl("", path="/nic/checkip")[0] == 200
    finally:
        dz.stop()


def test_started_as_root_it_runs_as_the_configured_user(open_dir: Path) -> None:
    _need_root()
    dz = start(open_dir, top='user = "nobody"')
    try:
        status = Path(f"/proc/{dz.server.proc.pid}/status").read_text()
        uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
        nobody = int(subprocess.check_output(["id", "-u", "nobody"], text=True))
        assert uids == [str(nobody)] * 4, status
        dz.add_user("bob", "bob-secret-1", f"bob.{ZONE}")
        q = f"hostname=bob.{ZONE}&myip=192.0.2.32"
        assert dz.curl(q, "bob", "bob-secret-1") == (200, "good 192.0.2.32")
        assert dz.query(f"bob.{ZONE}") == ["192.0.2.32"]
        assert (open_dir / "data" / "dynzone.sqlite3").stat().st_uid == nobody
    finally:
        dz.stop()


def test_log_format_json_writes_one_json_object_per_line(tmp_path: Path) -> None:
    dz = start(tmp_path, top='[log]\nformat = "json"')
    try:
        dz.add_user("carol", "carol-secret-1", f"carol.{ZONE}")
        assert dz.curl(f"hostname=carol.{ZONE}", "carol", "wrong-password")[0] == 401
    finally:
        dz.stop()
    events = []
    for line in dz.server.log_text().splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
        else:  # the banner goes to stdout as text; every log line is JSON
            assert not line.startswith("dynzone: "), line
    failed = [e for e in events if e.get("event") == "failed-login"]
    assert failed and failed[0]["client"] == "127.0.0.1" and failed[0]["reason"]
    assert any(e["message"] == "stopped" for e in events)
