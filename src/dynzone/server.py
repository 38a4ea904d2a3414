"""Process wiring: the store, the writer thread, listeners, signals, reload on SIGHUP.

Writes (HTTP updates, zone-file edits) run one at a time in a writer thread
that owns the store connection; each commit publishes a new catalog with one
reference swap, so the UDP thread and the event loop never wait on a write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import dns.name

from dynzone.changes import ChangeRejected, ChangeSet, Outcome, Writer, ZonePolicy
from dynzone.config import Config, ConfigError, ZoneConfig, load_config
from dynzone.dns.handoff import AsyncAnswerer
from dynzone.dns.listeners import ListenError, TcpLimits, open_listeners
from dynzone.dns.responder import Responder
from dynzone.http.app import start_http
from dynzone.keys import Keyring
from dynzone.store import records
from dynzone.store import zones as zone_rows
from dynzone.store.sqlite import StoreError, connect
from dynzone.update.door import UpdateDoor
from dynzone.xfr.door import JournalReader, TransferDoor
from dynzone.xfr.notify_out import Notifier
from dynzone.xfr.propagation import Tracker
from dynzone.zones.catalog import Catalog
from dynzone.zones.export import export_zone
from dynzone.zones.loader import ZoneLoadError, load_stored
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.sync import Synced, sync_zone

log = logging.getLogger("dynzone")


class StartupError(Exception):
    """The server cannot start; the message says why and what to do."""


def _policies(config: Config) -> dict[dns.name.Name, ZonePolicy]:
    return {z.name: ZonePolicy(z.serial_policy, z.journal_limit) for z in config.zones}


def _source(zc: ZoneConfig) -> str:
    return str(zc.file or "store")


def _stored_serial(conn: sqlite3.Connection, zc: ZoneConfig) -> int | None:
    zid = zone_rows.zone_id(conn, zc.name)
    if zid is None:
        return None
    return records.serial(conn, zid, zc.name)


class Server:
    """One dynzone process: store, writer, catalog, responder and listeners."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.responder = Responder(Catalog(), payload=config.dns.edns_payload)
        self._writer_pool = ThreadPoolExecutor(1, thread_name_prefix="dynzone-writer")
        self._export_pool = ThreadPoolExecutor(1, thread_name_prefix="dynzone-export")
        # Zone transfers: journal reads and message rendering, off the event loop.
        self.transfer_pool = ThreadPoolExecutor(1, thread_name_prefix="dynzone-transfer")
        self.journal_reader = JournalReader(config.data_dir)
        self.tracker = Tracker(config.data_dir)
        self.notifier: Notifier | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.conn: sqlite3.Connection | None = None
        self.keys_conn: sqlite3.Connection | None = None  # the event loop's, for TSIG keys
        self.writer: Writer | None = None
        self._closers: list[Callable[[], None]] = []
        self._async_closers: list[Callable[[], Awaitable[None]]] = []
        self._stop: asyncio.Event | None = None
        self._reload_lock = asyncio.Lock()
        self._reload_again = False

    @property
    def snapshots(self) -> dict[dns.name.Name, ZoneSnapshot]:
        return self.writer.snapshots if self.writer is not None else {}

    # -- start-up ----------------------------------------------------------

    def load_zones(self) -> None:
        """Open the store, bring every configured zone in line, and publish them."""
        try:
            self.conn = connect(self.config.data_dir)
            self.keys_conn = connect(self.config.data_dir)
        except StoreError as exc:
            raise StartupError(str(exc)) from None
        self.writer = Writer(self.conn, {}, _policies(self.config), self._publish)
        snapshots = {}
        for zc in self.config.zones:
            try:
                done = sync_zone(self.conn, self.writer, zc)
            except ZoneLoadError as exc:
                raise StartupError(f"zone {zc.name}: {exc}") from None
            except ChangeRejected as exc:
                raise StartupError(f"zone {zc.name}: {zc.file}: {exc}") from None
            if done.message:
                log.info("zone %s: %s", zc.name, done.message)
            snapshots[zc.name] = self._snapshot(zc, done)
        self.writer.snapshots = snapshots
        self._publish(snapshots, set(snapshots))

    def _publish(
        self, snapshots: dict[dns.name.Name, ZoneSnapshot], changed: set[dns.name.Name]
    ) -> None:
        # One reference swap: queries in flight finish on the old catalog.
        self.responder.catalog = Catalog(snapshots.values())
        if self.notifier is not None and self._loop is not None:
            now = time.time()
            for name in changed:
                if name in snapshots:
                    # Never waits: the NOTIFY goes out from the event loop (if it
                    # is gone, we are shutting down and there is no one to tell).
                    with contextlib.suppress(RuntimeError):
                        self._loop.call_soon_threadsafe(
                            self.notifier.changed, name, snapshots[name].soa, now
                        )
        for zc in self.config.zones:
            if zc.name in changed and zc.export_file is not None and zc.name in snapshots:
                self._export_pool.submit(
                    export_zone, snapshots[zc.name], zc.export_file, zc.export_command
                )

    def _snapshot(self, zc: ZoneConfig, done: Synced) -> ZoneSnapshot:
        """Index a zone: the records just imported, or else what the store holds."""
        if done.imported is not None:
            return ZoneSnapshot(zc.name, done.imported, source=_source(zc))
        assert self.conn is not None
        return load_stored(self.conn, zc.name, _source(zc))

    async def commit(self, changeset: ChangeSet) -> list[Outcome]:
        """Commit in the writer thread; returns once durable and published."""
        assert self.writer is not None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer_pool, self.writer.commit, changeset)

    def zone_settings(self, name: dns.name.Name) -> ZoneConfig | None:
        """The configuration of the served zone ``name``."""
        for zc in self.config.zones:
            if zc.name == name:
                return zc
        return None

    async def start(self) -> None:
        limits = TcpLimits(self.config.dns.tcp_idle_timeout, self.config.dns.tcp_max_connections)
        answerer = None
        self._loop = asyncio.get_running_loop()
        if self.keys_conn is not None:
            keyring = Keyring(self.keys_conn)
            updates = UpdateDoor(lambda: self.responder.catalog, self.zone_settings, self.commit)
            transfers = TransferDoor(
                lambda: self.responder.catalog,
                self.zone_settings,
                self.journal_reader,
                self.transfer_pool,
            )
            answerer = AsyncAnswerer(self.responder, keyring, updates, transfers)
            self.responder.hands_off = True
            self.notifier = Notifier(self.zone_settings, keyring, self.tracker)
        try:
            self._closers = await open_listeners(
                self.config.dns.listen, self.responder, limits, answerer
            )
        except ListenError as exc:
            raise StartupError(f"{exc}. Change dns.listen in the config.") from None
        if self.config.http.listen:
            try:
                self._async_closers.append(await start_http(self))
            except ListenError as exc:
                self.close()
                raise StartupError(f"{exc}. Change http.listen in the config.") from None
        if self.notifier is not None:
            # Secondaries learn at once that we are (back) up, and at which serial.
            for name, snapshot in self.snapshots.items():
                self.notifier.changed(name, snapshot.soa, None)

    async def run(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve until SIGTERM or SIGINT; SIGHUP reloads."""
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        await self.start()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.reload()))
        if on_ready is not None:
            on_ready()
        try:
            await self._stop.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            for aclose in self._async_closers:
                await aclose()
            if self.notifier is not None:
                await self.notifier.close()
            self.close()
        log.info("stopped")

    def close(self) -> None:
        for close in self._closers:
            close()
        self._closers = []
        # Let a commit in progress finish: its client may already wait for the reply.
        self._writer_pool.shutdown(wait=True)
        self._export_pool.shutdown(wait=True)
        self.transfer_pool.shutdown(wait=True, cancel_futures=True)
        for conn in (self.conn, self.keys_conn):
            if conn is not None:
                conn.close()
        self.conn = self.keys_conn = None

    # -- reload ------------------------------------------------------------

    async def reload(self) -> None:
        """Re-read the config and every changed zone file, keeping what fails.

        A zone file that no longer loads, or whose edit conflicts with dynamic
        records, keeps the zone as it was; the log says why. Queries are
        answered throughout: the work runs in the writer thread.
        """
        if self._reload_lock.locked():
            self._reload_again = True
            return
        async with self._reload_lock:
            while True:
                self._reload_again = False
                await self._reload_once()
                if not self._reload_again:
                    break

    async def _reload_once(self) -> None:
        log.info("reloading")
        config = self.config
        if config.path is not None:
            try:
                config = load_config(config.path)
            except ConfigError as exc:
                log.error("reload: %s; keeping the running configuration", exc)
                return
            if config.dns.listen != self.config.dns.listen:
                log.warning("reload: dns.listen changed; restart dynzone to listen elsewhere")
            if config.http.listen != self.config.http.listen:
                log.warning("reload: http.listen changed; restart dynzone to listen elsewhere")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer_pool, self._reload_zones, config)

    def _reload_zones(self, config: Config) -> None:
        assert self.writer is not None and self.conn is not None
        self.config = config
        self.writer.policies = _policies(config)
        old = self.writer.snapshots
        snapshots: dict[dns.name.Name, ZoneSnapshot] = {}
        for zc in config.zones:
            try:
                done = sync_zone(self.conn, self.writer, zc)
                if done.message:
                    log.info("zone %s: %s", zc.name, done.message)
                current = self.writer.snapshots.get(zc.name)
                if current is None or _stored_serial(self.conn, zc) != current.serial:
                    # New here, or changed by another process (import-dyndnsd).
                    current = self._snapshot(zc, done)
                snapshots[zc.name] = current
            except (ZoneLoadError, ChangeRejected) as exc:
                previous = old.get(zc.name)
                if previous is not None:
                    log.error("zone %s: %s; keeping serial %d", zc.name, exc, previous.serial)
                    snapshots[zc.name] = previous
                else:
                    log.error("zone %s: %s; not served", zc.name, exc)
        for name in old.keys() - snapshots.keys():
            log.info("zone %s: removed from the configuration; no longer served", name)
        changed = {n for n, s in snapshots.items() if old.get(n) is not s}
        self.writer.snapshots = snapshots
        self._publish(snapshots, changed)
