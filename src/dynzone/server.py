"""Process wiring: load zones, open listeners, handle signals, reload on SIGHUP."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

import dns.name

from dynzone.config import Config, ConfigError, load_config
from dynzone.dns.listeners import ListenError, TcpLimits, open_listeners
from dynzone.dns.responder import Responder
from dynzone.zones.catalog import Catalog
from dynzone.zones.loader import LoadedZone, ZoneLoadError, fingerprint, load_zone

log = logging.getLogger("dynzone")


class StartupError(Exception):
    """The server cannot start; the message says why and what to do."""


class Server:
    """One dynzone process: the catalog, the responder and the listeners."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.loaded: dict[dns.name.Name, LoadedZone] = {}
        self.responder = Responder(Catalog(), payload=config.dns.edns_payload)
        self._closers: list[Callable[[], None]] = []
        self._stop: asyncio.Event | None = None
        self._reload_lock = asyncio.Lock()
        self._reload_again = False

    # -- start-up ----------------------------------------------------------

    def load_zones(self) -> None:
        """Load every configured zone; any failure stops start-up."""
        for zc in self.config.zones:
            try:
                self.loaded[zc.name] = load_zone(zc.name, zc.file)
            except ZoneLoadError as exc:
                raise StartupError(f"zone {zc.name}: {exc}") from None
        self._publish()

    def _publish(self) -> None:
        # One reference swap: queries in flight finish on the old catalog.
        self.responder.catalog = Catalog(z.snapshot for z in self.loaded.values())

    async def start(self) -> None:
        limits = TcpLimits(self.config.dns.tcp_idle_timeout, self.config.dns.tcp_max_connections)
        try:
            self._closers = await open_listeners(self.config.dns.listen, self.responder, limits)
        except ListenError as exc:
            raise StartupError(f"{exc}. Change dns.listen in the config.") from None

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
            self.close()
        log.info("stopped")

    def close(self) -> None:
        for close in self._closers:
            close()
        self._closers = []

    # -- reload ------------------------------------------------------------

    async def reload(self) -> None:
        """Re-read the config and every changed zone file, keeping what fails.

        A zone file that no longer loads keeps its previous version serving;
        the log says why. Queries are answered throughout: files are parsed in
        a worker thread and the new catalog replaces the old in one step.
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
        loop = asyncio.get_running_loop()
        loaded: dict[dns.name.Name, LoadedZone] = {}
        for zc in config.zones:
            old = self.loaded.get(zc.name)
            if (
                old is not None
                and old.snapshot.source == str(zc.file)
                and fingerprint([p for p, _, _ in old.fingerprint]) == old.fingerprint
            ):
                loaded[zc.name] = old
                continue
            try:
                loaded[zc.name] = await loop.run_in_executor(None, load_zone, zc.name, zc.file)
                log.info("zone %s: loaded serial %d", zc.name, loaded[zc.name].snapshot.serial)
            except ZoneLoadError as exc:
                if old is not None:
                    log.error("zone %s: %s; keeping serial %d", zc.name, exc, old.snapshot.serial)
                    loaded[zc.name] = old
                else:
                    log.error("zone %s: %s; not served", zc.name, exc)
        for name in self.loaded.keys() - loaded.keys():
            log.info("zone %s: removed from the configuration; no longer served", name)
        self.config = config
        self.loaded = loaded
        self._publish()
