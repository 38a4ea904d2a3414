"""The durable store: the port every part of dynzone talks to (``base.py``) and its
SQLite implementation (``sqlite/``), the truth for every zone's records."""

from __future__ import annotations

from pathlib import Path

from dynzone.store.base import Store
from dynzone.store.sqlite.backup import restore as _restore
from dynzone.store.sqlite.store import open_sqlite


def open_store(data_dir: Path) -> Store:
    """Open the store in ``data_dir`` (SQLite), creating and migrating it if needed.

    Raises StoreError, saying why, when it cannot be opened.
    """
    return open_sqlite(data_dir)


def restore_store(source: Path, data_dir: Path) -> dict[str, int]:
    """Put the backup ``source`` in place as ``data_dir``'s store (which must not exist).

    Returns each zone's serial; raises StoreError saying why it cannot.
    """
    return _restore(source, data_dir)
