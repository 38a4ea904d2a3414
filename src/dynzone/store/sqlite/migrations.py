"""Versioned schema migrations, applied in order on open.

The schema version is SQLite's ``user_version``. Each step runs in its own
transaction together with the version bump, so a crash mid-migration leaves the
previous version intact. Never edit a released step; append a new one.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable


def _confine_regex_grants(conn: sqlite3.Connection) -> None:
    """Step 6: every regex grant names the zone it is confined to.

    Before, a regex grant (imported from dyndnsd) was searched anywhere in
    any name of any zone. Each one is now given the longest stored zone whose
    name its expression ends with (as dyndnsd's configs write it, escaped or
    not, with or without ``$``). One that ends with no zone's name gets ``-``:
    it matches nothing until an admin grants it again, because guessing
    wider would keep the hole open.
    """
    zones = [row[0] for row in conn.execute("SELECT name FROM zone")]
    rows = conn.execute(
        "SELECT rowid, pattern FROM permission WHERE pattern LIKE 'regex:%'"
    ).fetchall()
    for rowid, pattern in rows:
        expression = pattern[len("regex:") :]
        tail = expression.removesuffix("$").lower()
        best = "-"
        for zone in zones:
            bare = zone.rstrip(".")
            if (tail.endswith(re.escape(bare)) or tail.endswith(bare)) and len(zone) > len(best):
                best = zone
        conn.execute(
            "UPDATE permission SET pattern = ? WHERE rowid = ?",
            (f"regex:{best} {expression}", rowid),
        )


_STEPS: list[str | Callable[[sqlite3.Connection], None]] = [
    # 1: zones, their records, the records of the last imported zone file, the
    # change journal, and identities with their grants.
    """
    CREATE TABLE zone (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,      -- absolute, lower case
        file_state TEXT                 -- JSON [[path, sha256], ...] of the last import
    );
    CREATE TABLE record (
        zone_id INTEGER NOT NULL REFERENCES zone(id) ON DELETE CASCADE,
        owner_key TEXT NOT NULL,        -- absolute owner name, lower case
        owner TEXT NOT NULL,            -- as written
        rdtype INTEGER NOT NULL,
        ttl INTEGER NOT NULL,
        rdata BLOB NOT NULL             -- uncompressed wire format
    );
    CREATE INDEX record_rrset ON record (zone_id, owner_key, rdtype);
    CREATE TABLE file_record (
        zone_id INTEGER NOT NULL REFERENCES zone(id) ON DELETE CASCADE,
        owner_key TEXT NOT NULL,
        owner TEXT NOT NULL,
        rdtype INTEGER NOT NULL,
        ttl INTEGER NOT NULL,
        rdata BLOB NOT NULL
    );
    CREATE INDEX file_record_zone ON file_record (zone_id);
    CREATE TABLE journal (
        zone_id INTEGER NOT NULL REFERENCES zone(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        serial_from INTEGER NOT NULL,
        serial_to INTEGER NOT NULL,
        removed TEXT NOT NULL,          -- JSON [[owner, ttl, type, rdata text], ...]
        added TEXT NOT NULL,
        identity TEXT NOT NULL,
        source TEXT NOT NULL,
        time REAL NOT NULL,
        PRIMARY KEY (zone_id, seq)
    );
    CREATE TABLE identity (
        name TEXT PRIMARY KEY,          -- "user:NAME", later "key:NAME"
        secret TEXT NOT NULL,           -- an argon2 hash for users
        created REAL NOT NULL,
        origin TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE permission (
        identity TEXT NOT NULL REFERENCES identity(name) ON DELETE CASCADE,
        pattern TEXT NOT NULL,          -- "host.zone.", "*.sub.zone." or "regex:..."
        types TEXT NOT NULL DEFAULT ''  -- space-separated, empty: the door's default
    );
    CREATE INDEX permission_identity ON permission (identity);
    """,
    # 2: TSIG keys are identities too ("key:NAME"), holding their secret as
    # given (a MAC needs it) and their algorithm. Users keep '' here.
    """
    ALTER TABLE identity ADD COLUMN algorithm TEXT NOT NULL DEFAULT ''
    """,
    # 3: each zone counts its own journal entries. A write transaction holds
    # its zone exclusively and takes the next sequence number from this row,
    # not from MAX(seq) over the journal; it is also the zone's position in
    # the change feed other processes follow.
    """
    ALTER TABLE zone ADD COLUMN journal_seq INTEGER NOT NULL DEFAULT 0;
    UPDATE zone SET journal_seq = COALESCE((SELECT MAX(seq) FROM journal
                                            WHERE journal.zone_id = zone.id), 0)
    """,
    # 4: a counter that moves with every change to identities and their grants,
    # kept by triggers whoever writes, so that readers (the server's TSIG
    # keyring) re-read identities only when they changed, not after every commit.
    """
    CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO counter (name, value) VALUES ('identities', 0);
    CREATE TRIGGER identity_insert AFTER INSERT ON identity BEGIN
        UPDATE counter SET value = value + 1 WHERE name = 'identities'; END;
    CREATE TRIGGER identity_update AFTER UPDATE ON identity BEGIN
        UPDATE counter SET value = value + 1 WHERE name = 'identities'; END;
    CREATE TRIGGER identity_delete AFTER DELETE ON identity BEGIN
        UPDATE counter SET value = value + 1 WHERE name = 'identities'; END;
    CREATE TRIGGER permission_insert AFTER INSERT ON permission BEGIN
        UPDATE counter SET value = value + 1 WHERE name = 'identities'; END;
    CREATE TRIGGER permission_delete AFTER DELETE ON permission BEGIN
        UPDATE counter SET value = value + 1 WHERE name = 'identities'; END
    """,
    # 5: journal entries keep their records in wire form (format 2); the
    # entries already written stay JSON in presentation form (format 1).
    """
    ALTER TABLE journal ADD COLUMN format INTEGER NOT NULL DEFAULT 1
    """,
    # 6: regex grants are confined to one zone (see _confine_regex_grants).
    _confine_regex_grants,
    # 7: an identity may be limited to client networks (API tokens' --from:
    # space-separated, empty for anywhere) and may expire (a Unix time).
    """
    ALTER TABLE identity ADD COLUMN allow_from TEXT NOT NULL DEFAULT '';
    ALTER TABLE identity ADD COLUMN expires REAL
    """,
    # 8: records that end (acme-dns TXT values): when each is to be deleted.
    # The owner is the lower-cased name as text, the record in wire form.
    """
    CREATE TABLE record_expiry (
        zone_id INTEGER NOT NULL REFERENCES zone(id) ON DELETE CASCADE,
        owner TEXT NOT NULL,
        rdtype INTEGER NOT NULL,
        rdata BLOB NOT NULL,
        expires REAL NOT NULL,
        PRIMARY KEY (zone_id, owner, rdtype, rdata)
    );
    CREATE INDEX record_expiry_when ON record_expiry (expires)
    """,
    # 9: a host grant may carry an IPv6 interface identifier (dyndns2 prefix
    # updates set the host's AAAA to the prefix plus it); '' for none.
    """
    ALTER TABLE permission ADD COLUMN ipv6_suffix TEXT NOT NULL DEFAULT ''
    """,
]

LATEST = len(_STEPS)


def _statements(script: str) -> list[str]:
    """The statements of ``script`` (a trigger's body holds semicolons of its own)."""
    out: list[str] = []
    pending = ""
    for part in script.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                out.append(pending)
            pending = ""
    return out


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema up to LATEST; refuse a store written by a newer dynzone."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > LATEST:
        raise sqlite3.DatabaseError(
            f"schema version {version} is newer than this dynzone understands ({LATEST});"
            " upgrade dynzone"
        )
    for number in range(version + 1, LATEST + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-check under the write lock: another process may have migrated.
            if conn.execute("PRAGMA user_version").fetchone()[0] >= number:
                conn.execute("ROLLBACK")
                continue
            step = _STEPS[number - 1]
            if isinstance(step, str):
                for statement in _statements(step):
                    conn.execute(statement)
            else:
                step(conn)
            conn.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
