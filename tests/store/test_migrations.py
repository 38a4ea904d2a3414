"""Schema migrations: a store written by an older dynzone is carried forward."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dynzone.store.sqlite import migrations


def _store_at_version_5(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    for step in migrations._STEPS[:5]:
        assert isinstance(step, str)
        for statement in migrations._statements(step):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 5")
    return conn


def test_step_6_confines_old_regex_grants_to_the_zone_they_end_with(tmp_path: Path) -> None:
    conn = _store_at_version_5(tmp_path / "old.sqlite3")
    conn.execute("INSERT INTO zone (name) VALUES ('example.test.'), ('dyn.example.test.')")
    conn.execute("INSERT INTO identity (name, secret, created) VALUES ('user:h', 'x', 0)")
    old = [r"home\.dyn\.example\.test", r"^[a-z]+\.dyn\.example\.test$", r"^anything$"]
    for pattern in old:
        conn.execute(
            "INSERT INTO permission (identity, pattern) VALUES ('user:h', ?)", ("regex:" + pattern,)
        )
    conn.execute("INSERT INTO permission (identity, pattern) VALUES ('user:h', 'a.example.test.')")
    migrations.migrate(conn)
    got = [r[0] for r in conn.execute("SELECT pattern FROM permission ORDER BY rowid")]
    assert got == [
        r"regex:dyn.example.test. home\.dyn\.example\.test",
        r"regex:dyn.example.test. ^[a-z]+\.dyn\.example\.test$",
        r"regex:- ^anything$",  # ends with no zone: matches nothing until granted again
        "a.example.test.",
    ]


def test_step_7_keeps_every_identity_usable_from_anywhere_and_for_ever(tmp_path: Path) -> None:
    conn = _store_at_version_5(tmp_path / "old.sqlite3")
    conn.execute("INSERT INTO identity (name, secret, created) VALUES ('user:h', 'x', 0)")
    migrations.migrate(conn)
    row = conn.execute("SELECT allow_from, expires FROM identity WHERE name = 'user:h'")
    assert row.fetchone() == ("", None)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST == 9


def test_steps_8_and_9_add_record_end_times_and_leave_grants_without_a_suffix(
    tmp_path: Path,
) -> None:
    conn = _store_at_version_5(tmp_path / "old.sqlite3")
    conn.execute("INSERT INTO identity (name, secret, created) VALUES ('user:h', 'x', 0)")
    conn.execute("INSERT INTO permission (identity, pattern) VALUES ('user:h', 'h.example.com.')")
    migrations.migrate(conn)
    row = conn.execute("SELECT ipv6_suffix FROM permission WHERE identity = 'user:h'")
    assert row.fetchone() == ("",)
    assert conn.execute("SELECT COUNT(*) FROM record_expiry").fetchone() == (0,)
