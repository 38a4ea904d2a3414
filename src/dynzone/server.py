"""One dynzone process: composition, listeners and signals.

Everything that decides what is served, and every write, belongs to the
engine (``engine/engine.py``); this file only puts the parts together, opens
the sockets, and turns SIGHUP into a reload and SIGTERM/SIGINT into a stop.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from dynzone import store as stores
from dynzone.config import Config, ConfigError, load_config
from dynzone.data_dir import DataDirError, ServerLock, secret_file
from dynzone.dns.cookies import Cookies
from dynzone.dns.handoff import AsyncAnswerer
from dynzone.dns.listeners import ListenError, TcpLimits, open_listeners
from dynzone.dns.responder import Responder
from dynzone.dns.rrl import RateLimiter
from dynzone.dns.stats import QueryStats
from dynzone.engine.catalog import Catalog
from dynzone.engine.engine import Engine
from dynzone.heap import collector_paused, settle_heap
from dynzone.keys import Keyring
from dynzone.metrics import REGISTRY, LiveCollector
from dynzone.observe import Parts, reader
from dynzone.privileges import PrivilegeError, drop_to
from dynzone.store.base import StoreError
from dynzone.update.door import UpdateDoor
from dynzone.xfr.door import TransferDoor
from dynzone.xfr.notify_out import Notifier
from dynzone.xfr.propagation import Tracker
from dynzone.zones.export import Exporter
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.sync import SyncError, bring_in_line

log = logging.getLogger("dynzone")


def _zone_name(zone: ZoneSnapshot | None) -> str:
    return zone.origin.to_text() if zone is not None else ""


class StartupError(Exception):
    """The server cannot start; the message says why and what to do."""


class Server:
    """One dynzone process: the engine, its doors, the listeners."""

    def __init__(self, config: Config) -> None:
        self.config = config
        try:
            # Opening the store (below) makes data_dir private; the lock comes first.
            self.lock = ServerLock(config.data_dir)
        except DataDirError as exc:
            raise StartupError(str(exc)) from None
        try:
            store = stores.open_store(config.data_dir)
        except StoreError as exc:
            self.lock.release()
            raise StartupError(str(exc)) from None
        self.engine = Engine(store, config.zones, lambda: stores.open_store(config.data_dir))
        dns = config.dns
        self.rrl = (
            RateLimiter(dns.rrl_limit, dns.rrl_slip, dns.rrl_exempt) if dns.rrl_limit else None
        )
        self.responder = Responder(
            self.engine.catalog,
            payload=dns.edns_payload,
            rrl=self.rrl,
            cookies=Cookies(self._cookie_secret()) if dns.cookies else None,
        )
        self.engine.on_swap(self.responder.use)
        self.exporter = Exporter(self.engine)
        # Zone transfers: journal reads and message rendering, off the event loop.
        self.transfer_pool = ThreadPoolExecutor(1, thread_name_prefix="dynzone-transfer")
        self.tracker = Tracker(config.data_dir)
        self.notifier: Notifier | None = None
        self._closers: list[Callable[[], None]] = []
        self._async_closers: list[Callable[[], Awaitable[None]]] = []
        self._stop: asyncio.Event | None = None
        self._reload_lock = asyncio.Lock()
        self._reload_again = False

    def _cookie_secret(self) -> bytes:
        """The configured secret, else the one kept in data_dir, so that a restart
        does not make every client learn a new server cookie."""
        configured = self.config.dns.cookie_secret
        if configured is not None:
            return configured
        try:
            return secret_file(self.config.data_dir / "cookie-secret", 16)
        except OSError as exc:
            raise StartupError(
                f"{self.config.data_dir}/cookie-secret: cannot keep the cookie secret:"
                f" {exc.strerror}"
            ) from None

    def load_zones(self) -> None:
        """Bring every configured zone in line with its file or settings, and serve them."""
        gc.collect()
        try:
            with collector_paused():
                bring_in_line(self.engine, self.config.zones, strict=True)
        except (SyncError, StoreError) as exc:
            raise StartupError(str(exc)) from None
        settle_heap(collect=False)

    async def start(self) -> None:
        engine = self.engine
        loop = asyncio.get_running_loop()
        engine.attach(loop)
        keyring = Keyring(engine.open_reader)
        answerer = AsyncAnswerer(
            engine,
            self.responder,
            keyring,
            UpdateDoor(engine),
            TransferDoor(engine, self.transfer_pool),
        )
        self.responder.hands_off = True
        self.notifier = Notifier(engine, keyring, self.tracker, loop)
        dns = self.config.dns
        limits = TcpLimits(
            dns.tcp_idle_timeout, dns.tcp_max_connections, dns.tcp_max_connections_per_address
        )
        try:
            self._closers = await open_listeners(dns.listen, self.responder, limits, answerer)
        except ListenError as exc:
            raise StartupError(f"{exc}. Change dns.listen in the config.") from None
        self._closers.append(keyring.close)
        parts = Parts(engine, self.responder, self.tracker, limits, self.rrl, answerer.inflight)
        if self.config.http.listen:
            # Imported only when HTTP is served: aiohttp takes a tenth of a
            # second to import, a fair part of a DNS-only restart.
            from dynzone.http.app import start_http

            try:
                http = await start_http(
                    engine, lambda: self.config.http, self.tracker, self.transfer_pool
                )
            except ListenError as exc:
                self.close()
                raise StartupError(f"{exc}. Change http.listen in the config.") from None
            self._async_closers.append(http.stop)
            parts.http = http.guard
            self._watch(parts)
        if self.config.user is not None:
            try:
                drop_to(self.config.user, self.config.data_dir)
            except (PrivilegeError, OSError) as exc:
                self.close()
                raise StartupError(f"cannot drop privileges: {exc}") from None
        # Secondaries learn at once that we are (back) up, and at which serial.
        for snapshot in engine.catalog.zones.values():
            self.notifier.changed(snapshot.origin, snapshot.soa, None)

    def _watch(self, parts: Parts) -> None:
        """Count queries and serve the live series of /metrics from now on."""
        stats = QueryStats(lambda key: _zone_name(self.engine.catalog.find_zone(key)))
        served = len(self.engine.catalog.zones)

        def swapped(new: Catalog) -> None:
            # Names map to other zones only when zones come or go: a reload
            # (which also forgets, below) or a zone created by a commit.
            nonlocal served
            if len(new.zones) != served:
                served = len(new.zones)
                stats.forget_zones()

        self.engine.on_swap(swapped)
        self.responder.stats = stats
        collector = LiveCollector(reader(parts))
        REGISTRY.register(collector)
        self._closers.append(lambda: REGISTRY.unregister(collector))

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
            await self.engine.detach()
            self.close()
        log.info("stopped")

    def close(self) -> None:
        for close in self._closers:
            close()
        self._closers = []
        self.transfer_pool.shutdown(wait=True, cancel_futures=True)
        self.engine.close()
        self.exporter.close()
        self.lock.release()

    async def reload(self) -> None:
        """Re-read the config and every changed zone file, keeping what fails.

        A zone file that no longer loads, or whose edit conflicts with dynamic
        records, keeps the zone as it was; the log says why. Queries are
        answered throughout: the work runs in the engine's writer thread.
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
        self.config = config
        with collector_paused():
            await self.engine.in_writer(bring_in_line, self.engine, config.zones, False)
        settle_heap()
        if self.responder.stats is not None:
            self.responder.stats.forget_zones()
