"""The durable store: the port every part of dynzone talks to (``base.py``) and its
SQLite implementation (``sqlite/``), the truth for every zone's records."""

from __future__ import annotations

from pathlib import Path

from dynzone.store.base import Store
from dynzone.store.sqlite.store import open_sqlite


def open_store(data_dir: Path) -> Store:
    """Open the store in ``data_dir`` (SQLite), creating and migrating it if needed.

    Raises StoreError, saying why, when it cannot be opened.
    """
    return open_sqlite(data_dir)
