"""The sweeper that deletes records whose end time has come (acme-dns TXT values).

A door that adds a record for a while sets its end time with
``ZoneWrite.set_expiry`` in the commit that adds it. Once a second the
sweeper reads the records that are due and deletes them in one ChangeSet
per zone, by ``dynzone:expiry``, clearing their end times in the same
transaction: a deletion is journaled, NOTIFYed and served like any change.

A door that refreshes an end time holds ``lock`` around its commit, so a
value renewed between the sweeper's read and its commit is never deleted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import dns.name

from dynzone.engine.changeset import ChangeSet, DeleteRecord, ZoneChange
from dynzone.store.base import Expired, Store, ZoneWrite

log = logging.getLogger("dynzone")

IDENTITY = "dynzone:expiry"
EVERY = 1.0  # seconds between sweeps
AFTER_FAILURE = 60.0  # a sweep that failed is tried again this much later

T = TypeVar("T")
Reader = Callable[[Callable[[Store], T]], Awaitable[T]]


class Sweeper:
    """Deletes due records through ``commit``; reads the store through ``read``."""

    def __init__(
        self,
        commit: Callable[[ChangeSet], Awaitable[object]],
        read: Reader[list[Expired]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.commit = commit
        self.read = read
        self.clock = clock
        self.lock = asyncio.Lock()

    async def sweep(self) -> int:
        """Delete every record due now; how many were due."""
        async with self.lock:
            now = self.clock()
            due = await self.read(lambda store: store.expired(now))
            if not due:
                return 0
            by_zone: dict[dns.name.Name, list[Expired]] = {}
            for item in due:
                by_zone.setdefault(item.zone, []).append(item)
            changes = tuple(
                ZoneChange(
                    zone,
                    tuple(DeleteRecord(e.name, e.rdata) for e in items),
                    after=_forget(items),
                )
                for zone, items in by_zone.items()
            )
            await self.commit(ChangeSet(IDENTITY, "expiry", changes))
            log.info("expiry: deleted %d record(s) whose time was up", len(due))
            return len(due)

    async def run(self) -> None:
        """Sweep once a second until cancelled."""
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - logged; keep sweeping
                log.error("expiry: could not delete records whose time was up: %s", exc)
                await asyncio.sleep(AFTER_FAILURE)
                continue
            await asyncio.sleep(EVERY)


def _forget(items: list[Expired]) -> Callable[[ZoneWrite], None]:
    def forget(zone: ZoneWrite) -> None:
        for item in items:
            zone.clear_expiry(item.name, item.rdata)

    return forget
