"""Journal reads for the threads that are not the writer: IXFR and zone status.

Each reading thread gets a store connection of its own, so a long transfer's
journal read never waits for the writer, nor the writer for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import dns.name

from dynzone.store.base import JournalEntry, Store


class JournalReader:
    """Reads zones' journals on a connection of the calling thread's own."""

    def __init__(self, open_store: Callable[[], Store]) -> None:
        self._open = open_store
        self._local = threading.local()
        self._opened: list[Store] = []
        self._lock = threading.Lock()

    def _store(self) -> Store:
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = self._open()
            with self._lock:
                self._opened.append(store)
        return store

    def since(self, origin: dns.name.Name, serial: int) -> list[JournalEntry]:
        """The entries from ``serial`` on (Store.journal_since)."""
        return self._store().journal_since(origin, serial)

    def latest(self, origin: dns.name.Name) -> JournalEntry | None:
        """The zone's newest journal entry."""
        found = self._store().journal(origin, 1)
        return found[0] if found else None

    def close(self) -> None:
        """Close every connection opened so far (call once their threads are done)."""
        with self._lock:
            for store in self._opened:
                store.close()
            self._opened.clear()
