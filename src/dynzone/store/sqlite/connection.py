"""Open the SQLite database with the settings that make a commit durable.

WAL lets readers (the ``dynzone user`` commands, a later worker process) run
beside the writer; ``synchronous=FULL`` makes every commit reach the disk
before it returns, so "acknowledged" means "durable".
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dynzone.data_dir import DataDirError, create_private, make_private
from dynzone.metrics import SYNC_SECONDS
from dynzone.store.base import StoreError
from dynzone.store.sqlite.migrations import migrate

DB_NAME = "dynzone.sqlite3"


def db_path(data_dir: Path) -> Path:
    return data_dir / DB_NAME


def connect(data_dir: Path, busy_timeout: float = 5.0) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the store in ``data_dir``."""
    try:
        make_private(data_dir)
    except DataDirError as exc:
        raise StoreError(str(exc)) from None
    try:
        # SQLite gives the -wal and -shm files the mode of the database file.
        create_private(db_path(data_dir))
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (see transaction()).
        conn = sqlite3.connect(
            db_path(data_dir), timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{db_path(data_dir)}: cannot open the store: {exc}") from None
    except OSError as exc:
        raise StoreError(f"{db_path(data_dir)}: cannot open the store: {exc.strerror}") from None
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: all of it commits, or none of it does.

    BEGIN IMMEDIATE takes the write lock up front, so two writers (a server
    and a ``dynzone`` command) queue instead of failing half-way.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    started = time.perf_counter()
    conn.execute("COMMIT")  # synchronous=FULL: this is where the data reaches the disk
    SYNC_SECONDS.observe(time.perf_counter() - started)
