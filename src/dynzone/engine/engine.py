"""The engine: what is served right now, and the one way to change it.

It owns the published catalog and its answer cache, the per-zone settings,
the store's writer connection and the commit path; doors ask it for the
catalog, for settings and for journal reads, and hand it ChangeSets.

A write crosses threads exactly here, by one of two entry points:

* ``await commit(changeset)``, from the event loop (HTTP, DNS over TCP):
  **event loop** → **writer thread** → **event loop**, which then replies;
* ``submit(changeset, done)``, from any thread (the UDP listener thread):
  **that thread** → **writer thread**, where ``done`` builds and sends the
  reply; no event loop on the way, so a UDP update costs no loop wake-ups.

In the writer thread (``dynzone-writer``, the only one that writes),
``commit_now`` runs one store transaction (durable when it returns), makes
the changed zones' next snapshots (``evolve``, at the cost of the change),
then ``_publish`` swaps the catalog and retires exactly the cached answers
the change can affect, under the cache lock (live), and tells the commit
subscribers (NOTIFY, export, …), which hand any slow work to a thread or the
event loop of their own. Only then does the door hear of the outcome, so no
client is answered before its change is durable and served. A refused change
(``ChangeRejected`` inside the transaction) writes and publishes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import dns.name

from dynzone.engine.apply import apply_change
from dynzone.engine.catalog import Catalog
from dynzone.engine.changeset import ChangeSet, Outcome, ZoneChange
from dynzone.engine.follow import follows_on, rrset_changes
from dynzone.engine.journal import JournalReader
from dynzone.engine.settings import ZoneSettings
from dynzone.engine.zone_view import ZoneView
from dynzone.metrics import COMMIT_SECONDS, COMMITS
from dynzone.store.base import Store, StoreError, TransactionSpoiled
from dynzone.zones.deps import zone_tag
from dynzone.zones.snapshot import ZoneSnapshot, key_of, parent_key

log = logging.getLogger("dynzone")

P = ParamSpec("P")
T = TypeVar("T")
# What ``submit`` calls when a commit is done: its outcomes, or why there are none.
Done = Callable[[list[Outcome] | None, BaseException | None], None]

# How often the engine looks for changes other processes committed to the store.
FOLLOW_INTERVAL = 1.0
# The most changes one transaction takes; more wait for the next one.
MAX_BATCH = 256
# Counted once per batch: looking a labelled series up costs more than adding.
_COMMITTED = COMMITS.labels("committed")
_FAILED = COMMITS.labels("failed")
_REJECTED = COMMITS.labels("rejected")


@dataclass
class _Tally:
    count: int
    serial_from: int
    serial_to: int
    who: set[str]


def _may_refuse_after_writing(changeset: ChangeSet) -> bool:
    """Whether a part of ``changeset`` may be refused once another part is written,
    so a real savepoint must be able to undo it. A change to one zone is checked
    whole before its first write (``apply._change``), unless it brings an
    ``after`` hook; most changes are that, and skip the savepoint's cost."""
    if len(changeset.zones) != 1:
        return True
    (only,) = changeset.zones
    return not isinstance(only, ZoneChange) or only.after is not None


def _log_batch(changesets: list[ChangeSet], results: list[list[Outcome] | BaseException]) -> None:
    """One line per zone a batch changed: how many changes, by whom, the serials.

    A line per change would cost more than many a change does, when
    thousands a second commit; each change is in the zone's journal
    (``dynzone zone journal``) with who made it, from where and what it did.
    """
    if not log.isEnabledFor(logging.INFO):
        return
    zones: dict[dns.name.Name, _Tally] = {}
    for changeset, result in zip(changesets, results, strict=True):
        if isinstance(result, BaseException):
            continue
        for outcome in result:
            if not outcome.changed:
                continue
            if outcome.records is not None:
                log.info(
                    "%s: created with %d records by %s, serial %d",
                    outcome.zone,
                    len(outcome.records),
                    changeset.identity,
                    outcome.serial_to,
                )
                continue
            tally = zones.get(outcome.zone)
            if tally is None:
                tally = zones[outcome.zone] = _Tally(0, outcome.serial_from, 0, set())
            tally.count += 1
            tally.serial_to = outcome.serial_to
            tally.who.add(changeset.identity)
    for zone, t in zones.items():
        names = sorted(t.who)
        by = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        changes = "1 change" if t.count == 1 else f"{t.count} changes"
        log.info("%s: %s by %s, serial %d -> %d", zone, changes, by, t.serial_from, t.serial_to)


@dataclass(frozen=True)
class Published:
    """What commit subscribers hear: zones whose served snapshot changed.

    ``when`` is the commit's time; None when zones were (re)loaded whole
    (start-up, reload, another process's change), so there is no single
    commit to time anything from.
    """

    zones: tuple[ZoneSnapshot, ...]
    when: float | None


class Engine:
    """The served state and the commit path of one dynzone process."""

    def __init__(
        self,
        store: Store,
        zones: Iterable[ZoneSettings],
        open_store: Callable[[], Store],
    ) -> None:
        self.store = store  # the writer's connection: used from the writer thread only
        self._open_store = open_store
        self._settings: dict[dns.name.Name, ZoneSettings] = {z.name: z for z in zones}
        self.catalog = Catalog()
        # The writer thread's view: every zone being served, and where in the
        # store's change feed each one is.
        self._zones: dict[dns.name.Name, ZoneSnapshot] = {}
        self._positions: dict[dns.name.Name, int] = {}
        # Held by every change to the above, from whichever thread.
        self._lock = threading.RLock()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="dynzone-writer")
        # Changes waiting for the writer's next transaction (group commit).
        self._pending: deque[tuple[ChangeSet, Done, float]] = deque()
        self._pending_lock = threading.Lock()
        self._draining = False
        self._swaps: list[Callable[[Catalog], None]] = []
        self._subscribers: list[Callable[[Published], None]] = []
        self._follower: asyncio.Task[None] | None = None
        self._store_version: int | None = None
        self.journal = JournalReader(open_store)

    # -- what is served ---------------------------------------------------------

    def zone_settings(self, name: dns.name.Name) -> ZoneSettings | None:
        """The settings of the zone ``name`` (served or about to be), if configured."""
        return self._settings.get(name)

    def dynamic_ttl(self, zone: dns.name.Name) -> int:
        """The TTL of records the HTTP doors set in ``zone``: its ``dynamic_ttl``
        (the default for a zone without settings)."""
        return (self._settings.get(zone) or ZoneSettings(zone)).dynamic_ttl

    @property
    def settings(self) -> tuple[ZoneSettings, ...]:
        return tuple(self._settings.values())

    def snapshot(self, name: dns.name.Name) -> ZoneSnapshot | None:
        """The snapshot of the served zone ``name``."""
        return self.catalog.zones.get(key_of(name))

    def zone_origin(self, key: bytes) -> dns.name.Name | None:
        """The origin of the served zone closest to the name with ``key``, if any."""
        zone = self.catalog.find_zone(key)
        return None if zone is None else zone.origin

    def parent_origin(self, origin: dns.name.Name) -> dns.name.Name | None:
        """The origin of the served zone that contains ``origin``'s apex from above."""
        key = key_of(origin)
        return None if key == b"\x00" else self.zone_origin(parent_key(key))

    def open_reader(self) -> Store:
        """A store connection of its own, for a thread that only reads."""
        return self._open_store()

    # -- subscribers ------------------------------------------------------------

    def on_swap(self, swap: Callable[[Catalog], None]) -> None:
        """Call ``swap`` with every catalog published, before the commit returns
        (under the cache lock: keep it to a reference assignment)."""
        self._swaps.append(swap)
        swap(self.catalog)

    def on_commit(self, subscriber: Callable[[Published], None]) -> None:
        """Call ``subscriber`` once per publication that changed zones, in the
        publishing (writer) thread, right after the swap: keep it quick."""
        self._subscribers.append(subscriber)

    # -- life cycle -------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Follow other processes' changes from ``loop`` (every FOLLOW_INTERVAL)."""
        self._follower = loop.create_task(self._follow_forever())

    async def detach(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
            self._follower = None

    def close(self) -> None:
        """Stop the writer (letting a commit in progress finish) and close the store."""
        # A commit in progress may have a client waiting for its reply.
        self._writer.shutdown(wait=True)
        self.journal.close()
        self.store.close()

    async def in_writer(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` in the writer thread (for work that commits, like a reload)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, lambda: fn(*args, **kwargs))

    # -- writes -----------------------------------------------------------------

    async def commit(self, changeset: ChangeSet) -> list[Outcome]:
        """Apply ``changeset`` atomically; returns once it is durable and served.

        Raises ChangeRejected (nothing written, nothing published) when any
        part is refused, and StoreError when the store cannot commit.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Outcome]] = loop.create_future()

        def settle(outcomes: list[Outcome] | None, error: BaseException | None) -> None:
            if not future.done():
                if error is not None:
                    future.set_exception(error)
                else:
                    assert outcomes is not None
                    future.set_result(outcomes)

        def done(outcomes: list[Outcome] | None, error: BaseException | None) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits
                loop.call_soon_threadsafe(settle, outcomes, error)

        self.submit(changeset, done)
        return await future

    def submit(self, changeset: ChangeSet, done: Done) -> None:
        """Apply ``changeset`` in the writer thread, then call ``done(outcomes, None)``
        there once it is durable and served, or ``done(None, error)`` with what
        ``commit`` would raise. For threads without an event loop.

        Changes submitted while the writer is busy wait for its next transaction
        and share it (group commit, see ``_commit_batch``)."""
        with self._pending_lock:
            self._pending.append((changeset, done, time.perf_counter()))
            if self._draining:
                return
            self._draining = True
        try:
            self._writer.submit(self._drain)
        except RuntimeError as exc:  # the writer has shut down
            with self._pending_lock:
                waiting = list(self._pending)
                self._pending.clear()
                self._draining = False
            for _, waiter, _ in waiting:
                waiter(None, exc)

    def _drain(self) -> None:
        """(Writer thread.) Commit what is waiting, a batch at a time, until nothing is."""
        while True:
            with self._pending_lock:
                if not self._pending:
                    self._draining = False
                    return
                count = min(len(self._pending), MAX_BATCH)
                batch = [self._pending.popleft() for _ in range(count)]
            try:
                results = self._commit_batch([cs for cs, _, _ in batch])
            except Exception as exc:  # a fault of ours: every waiter hears of it
                log.exception("a batch of %d changes failed", len(batch))
                results = [exc for _ in batch]
            now = time.perf_counter()
            for (_, done, queued), result in zip(batch, results, strict=True):
                COMMIT_SECONDS.observe(now - queued)
                try:
                    if isinstance(result, BaseException):
                        done(None, result)
                    else:
                        done(result, None)
                except Exception:
                    # One door's reply failing must not keep the others waiting.
                    log.exception("answering a committed change failed")

    def commit_now(self, changeset: ChangeSet, when: float | None = None) -> list[Outcome]:
        """``commit`` in the calling thread: the writer thread, or before serving."""
        started = time.perf_counter()
        (result,) = self._commit_batch([changeset], when)
        if isinstance(result, BaseException):
            raise result
        COMMIT_SECONDS.observe(time.perf_counter() - started)
        return result

    def commit_all_now(
        self, changesets: list[ChangeSet], when: float | None = None
    ) -> list[list[Outcome] | BaseException]:
        """Several changesets in one transaction, in the calling thread (as
        ``commit_now``): per changeset its outcomes, or the exception that
        refused it alone."""
        return self._commit_batch(changesets, when)

    def _commit_batch(
        self, changesets: list[ChangeSet], when: float | None = None
    ) -> list[list[Outcome] | BaseException]:
        """Commit ``changesets`` in one store transaction: one fsync for all of them.

        Each keeps its own meaning: it runs inside a savepoint, so one that
        fails (a prerequisite, a grant, a CNAME clash) is undone alone and
        the rest commit; each gets its own serial step and journal entry. A
        change reads the zone as the ones before it in the batch left it (a
        ``ZoneView`` per zone); the next snapshots are made once, when the
        batch is done, and published only once the transaction is durable.
        Returns, per changeset, its outcomes or the exception that refused
        it; if the transaction itself fails, that error for every changeset.
        """
        when = time.time() if when is None else when
        results: list[list[Outcome] | BaseException] = []
        with self._lock:
            views: dict[dns.name.Name, ZoneView | None] = {}
            changed: dict[dns.name.Name, ZoneSnapshot] = {}
            positions: dict[dns.name.Name, int] = {}
            pending: dict[dns.name.Name, Future[ZoneSnapshot]] = {}
            tags: set[bytes] = set()
            try:
                with self.store.write() as txn:
                    for changeset in changesets:
                        try:
                            with txn.savepoint(undo=_may_refuse_after_writing(changeset)):
                                outcomes = [
                                    apply_change(
                                        txn,
                                        change,
                                        changeset,
                                        self._settings.get(change.zone),
                                        when,
                                        self._view(views, change.zone),
                                    )
                                    for change in changeset.zones
                                ]
                        except TransactionSpoiled:
                            raise  # written in part: the whole batch rolls back
                        except Exception as exc:  # noqa: BLE001 - it goes to its door
                            results.append(exc)
                            continue
                        for outcome in outcomes:
                            view = views.get(outcome.zone)
                            if view is not None:
                                view.take(outcome)
                            elif outcome.snapshot is not None and outcome.position is not None:
                                views[outcome.zone] = ZoneView.of_new_zone(outcome)
                        results.append(outcomes)
                    # Still inside the transaction: if making a snapshot fails,
                    # nothing of the batch is written.
                    for zone, view in views.items():
                        if view is not None and view.changed:
                            building = view.building
                            if building is not None:
                                # A big new zone, alone in the batch, whose
                                # snapshot is still being built from the rows
                                # written: it is built on while the commit
                                # reaches the disk (holding no GIL), and taken
                                # after. The build cannot refuse: _create
                                # checked the apex before writing.
                                pending[zone] = building
                                positions[zone] = view.position
                                tags.add(zone_tag(key_of(zone)))
                                continue
                            new, touched = self._next_snapshot(zone, view, positions)
                            if new is not None:
                                changed[zone] = new
                                tags |= touched
            except StoreError as exc:
                # Nothing of the batch reached the disk: every change fails alike.
                _FAILED.inc(len(changesets))
                return [exc for _ in changesets]
            # Durable. Now make it live.
            for zone, building in pending.items():
                changed[zone] = building.result()
            self._zones.update(changed)
            self._positions.update(positions)
            if changed:
                self._publish(changed, tags, when)
        _log_batch(changesets, results)
        committed = sum(1 for r in results if not isinstance(r, BaseException))
        failed = sum(1 for r in results if isinstance(r, StoreError))
        _COMMITTED.inc(committed)
        if failed:
            _FAILED.inc(failed)
        if len(results) - committed - failed:
            # A door's check inside the transaction said no: nothing was written.
            _REJECTED.inc(len(results) - committed - failed)
        return results

    def _view(
        self, views: dict[dns.name.Name, ZoneView | None], zone: dns.name.Name
    ) -> ZoneView | None:
        """The batch's view of ``zone``, made at its first change; None for a zone
        this process does not hold (nor created in this batch)."""
        if zone not in views:
            snapshot = self._zones.get(zone)
            position = self._positions.get(zone)
            held = None if snapshot is None or position is None else ZoneView(snapshot, position)
            views[zone] = held
        return views[zone]

    def _next_snapshot(
        self, zone: dns.name.Name, view: ZoneView, positions: dict[dns.name.Name, int]
    ) -> tuple[ZoneSnapshot | None, set[bytes]]:
        """The snapshot a batch leaves ``zone`` in, with the answer tags it touched;
        its journal position goes into ``positions``."""
        if view.behind:
            # Another process committed to the zone since our last look:
            # catch up through the journal, this batch's entries included.
            old = self._zones.get(zone)
            if old is None:
                return None, set()
            positions[zone] = self._positions[zone]
            return self._catch_up(zone, old, positions)
        new, touched = view.next_snapshot()
        if view.fresh:
            touched.add(zone_tag(key_of(zone)))
        positions[zone] = view.position
        return new, touched

    # -- zones served ---------------------------------------------------------------
    # These, like commit_now, run in the writer thread (``in_writer``), or in
    # the one thread that sets the engine up before anything is served.

    def set_settings(self, zones: Iterable[ZoneSettings]) -> None:
        """Replace every zone's settings at once (a reload)."""
        self._settings = {z.name: z for z in zones}

    def hold(self, name: dns.name.Name) -> ZoneSnapshot | None:
        """The snapshot of the stored zone ``name``, read from the store if not held yet;
        None if the store does not have it. Held zones evolve with every commit."""
        with self._lock:
            held = self._zones.get(name)
            if held is not None:
                return held
            stored = self.store.load_zone(name)
            if stored is None:
                return None
            snapshot = stored.snapshot
            self._zones[name] = snapshot
            self._positions[name] = stored.position
            return snapshot

    def hold_all(self, names: Iterable[dns.name.Name]) -> None:
        """``hold`` every zone among ``names`` the store has, read in one go (a
        start with many zones pays one read, not one per zone)."""
        with self._lock:
            missing = [name for name in names if name not in self._zones]
            if not missing:
                return
            for name, stored in self.store.load_zones(missing).items():
                self._zones[name] = stored.snapshot
                self._positions[name] = stored.position

    def serve(self, names: Iterable[dns.name.Name]) -> None:
        """Serve exactly the held zones among ``names``; forget the other held zones.

        Zones served before and still served keep their cached answers
        unless the set of zones changed (a zone added or removed starts a
        new cache: which zone answers a name may have changed).
        """
        with self._lock:
            wanted = [n for n in names if n in self._zones]
            keep = set(wanted)  # a list's ``in`` made this quadratic in the zones
            for name in list(self._zones):
                if name not in keep:
                    del self._zones[name]
                    self._positions.pop(name, None)
            served = self.catalog.zones
            now = {key_of(n): self._zones[n] for n in wanted}
            fresh = [s for k, s in now.items() if served.get(k) is not s]
            if now.keys() == served.keys():
                if fresh:
                    tags = {zone_tag(s.key) for s in fresh}
                    self._publish({s.origin: s for s in fresh}, tags, None)
                return
            catalog = Catalog(now.values())
            self._swap(catalog, None)
            self._announce(Published(tuple(fresh), None))

    def follow(self) -> None:
        """Catch up with what other processes committed to the zones we serve."""
        with self._lock:
            if not self._zones:
                return  # nothing held yet (a start): nothing to catch up with
            positions = self.store.positions()
            changed: dict[dns.name.Name, ZoneSnapshot] = {}
            tags: set[bytes] = set()
            for name, old in list(self._zones.items()):
                if positions.get(name, -1) == self._positions.get(name):
                    continue
                new, touched = self._catch_up(name, old)
                if new is not old:
                    self._zones[name] = changed[name] = new
                    tags |= touched
            if changed:
                log.debug(
                    "took in changes made by another process: %s",
                    ", ".join(str(n) for n in changed),
                )
                self._publish(changed, tags, None)

    def _catch_up(
        self,
        name: dns.name.Name,
        old: ZoneSnapshot,
        positions: MutableMapping[dns.name.Name, int] | None = None,
    ) -> tuple[ZoneSnapshot, set[bytes]]:
        positions = self._positions if positions is None else positions
        position = positions.get(name, 0)
        entries = self.store.journal_after(name, position)
        if entries and follows_on(entries, position):
            new, tags = old.evolve(rrset_changes(old, entries))
            positions[name] = entries[-1].seq
            return new, tags
        stored = self.store.load_zone(name)
        if stored is None:
            return old, set()  # the zone went from the store; keep serving what we have
        positions[name] = stored.position
        return stored.snapshot, {zone_tag(old.key)}

    async def _follow_forever(self) -> None:
        while True:
            await asyncio.sleep(FOLLOW_INTERVAL)
            try:
                await self.in_writer(self._follow_if_moved)
            except RuntimeError:
                return  # the writer has shut down
            except Exception:
                log.exception("could not follow the store's changes; will retry")

    def _follow_if_moved(self) -> None:
        version = self.store.version()
        if version != self._store_version:
            self._store_version = version
            self.follow()

    # -- publication ------------------------------------------------------------

    def _publish(
        self, changed: dict[dns.name.Name, ZoneSnapshot], tags: set[bytes], when: float | None
    ) -> None:
        """Serve ``changed`` (zones already served) and retire the answers ``tags`` reach."""
        served = self.catalog
        update = {key_of(n): s for n, s in changed.items() if key_of(n) in served.zones}
        if update:
            self._swap(served.evolve(update), tags)
            # Zones held but not served yet are announced when ``serve`` serves them.
            self._announce(Published(tuple(update.values()), when))

    def _swap(self, catalog: Catalog, tags: set[bytes] | None) -> None:
        answers = catalog.answers
        old = self.catalog.answers
        with answers.lock:
            answers.current = catalog
            self.catalog = catalog
            for swap in self._swaps:
                swap(catalog)
            if tags:
                answers.retire(tags)
        if old is not answers:
            # A cache and its current catalog refer to each other. A cache
            # set aside lets go of its catalog, so reference counting frees
            # both (the collector does not look at zones loaded before a
            # freeze, heap.py settle_heap); a reader still holding it sees
            # that it is no longer current, as after any swap.
            with old.lock:
                old.current = None

    def _announce(self, event: Published) -> None:
        if not event.zones:
            return
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:
                log.exception("a commit subscriber failed")
