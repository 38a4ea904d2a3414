"""Passwords are never stored or logged in clear: read the database files and the log."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.dyndns_server import ZONE, start


def test_passwords_are_neither_stored_nor_logged_in_clear(tmp_path: Path) -> None:
    dz = start(tmp_path)
    secret, wrong = "correct-horse-battery-staple", "wrong-horse-guess-9"
    try:
        dz.add_user("alice", secret, f"alice.{ZONE}")
        done = dz.cli("user", "add", "bob", "--host", f"bob.{ZONE}")
        generated = done.stdout.split("password: ", 1)[1].split()[0]
        dz.cli("user", "passwd", "alice", "--password-stdin", stdin=secret + "2\n")
        assert dz.curl(f"hostname=alice.{ZONE}&myip=192.0.2.1", "alice", secret + "2")[0] == 200
        assert dz.curl(f"hostname=alice.{ZONE}&myip=192.0.2.1", "alice", wrong)[0] == 401
        assert dz.curl(f"hostname=bob.{ZONE}&myip=192.0.2.2", "bob", generated)[0] == 200
    finally:
        dz.stop()
    files = sorted((tmp_path / "data").iterdir())
    assert any(p.name == "dynzone.sqlite3" for p in files)
    stored = b"".join(p.read_bytes() for p in files)
    log = dz.server.log_text().encode()
    for clear in (secret, secret + "2", wrong, generated):
        assert clear.encode() not in stored, f"{clear} found in the store"
        assert clear.encode() not in log, f"{clear} found in the log"
    assert b"$argon2id$" in stored
    assert b"failed-login: HTTP user 'alice'" in log  # the log does say what happened
