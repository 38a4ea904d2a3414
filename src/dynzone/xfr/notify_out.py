"""Send NOTIFY (RFC 1996) to each secondary after every commit, then watch it catch up.

One task per zone and secondary runs on the event loop, apart from queries
and update replies: a commit only records the new serial and wakes the task.
The task sends a NOTIFY (signed with the zone's ``notify_key`` if set) and
retries with a doubling timeout until the secondary answers. Then it polls
the secondary's SOA until it serves the new serial, which tells the
propagation tracker how long the change took to reach it. A newer commit
meanwhile starts the round again with the newer serial.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdatatype
import dns.rrset

from dynzone.engine.changeset import ChangeSet, ZoneChange
from dynzone.engine.engine import Engine, Published
from dynzone.engine.settings import HostPort
from dynzone.keys import Keyring
from dynzone.metrics import NOTIFIES
from dynzone.xfr.propagation import Tracker, ask_serial
from dynzone.zones.serial import serial_gt

log = logging.getLogger("dynzone.xfr")

# NOTIFY timeouts, one per try (RFC 1996 §3.6 leaves the values to us).
NOTIFY_TIMEOUTS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 60.0, 60.0, 60.0)
# Pauses between SOA polls after a NOTIFY, then the last one repeats until
# WATCH_LIMIT seconds have passed.
POLL_PAUSES = (0.05,) * 20 + (0.1,) * 40 + (0.5,) * 10 + (2.0,)
WATCH_LIMIT = 600.0


@dataclass
class _Follow:
    """One secondary of one zone: the serial it should get, and a wake-up call."""

    serial: int
    soa: dns.rrset.RRset
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class Notifier:
    """Keeps every configured secondary informed of the latest serial.

    A commit subscriber of the engine: it hears of every change in the writer
    thread, after the change is served, and wakes the event loop only for
    zones that have secondaries to notify.
    """

    def __init__(
        self,
        engine: Engine,
        keyring: Keyring,
        tracker: Tracker,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.engine = engine
        self.keyring = keyring
        self.tracker = tracker
        self.loop = loop
        self._follows: dict[tuple[dns.name.Name, HostPort], _Follow] = {}
        self._closed = False
        engine.on_commit(self.published)

    def published(self, event: Published) -> None:
        """(Writer thread.) Hand the changed zones that have secondaries to the loop."""
        for snapshot in event.zones:
            settings = self.engine.zone_settings(snapshot.origin)
            if settings is None or not settings.notify or self._closed:
                continue
            # The loop may be gone (shutting down): then there is no one to tell.
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(
                    self.changed, snapshot.origin, snapshot.soa, event.when
                )

    def changed(self, zone: dns.name.Name, soa: dns.rrset.RRset, when: float | None) -> None:
        """``zone`` now serves ``soa``; tell its secondaries.

        ``when`` is the time of the commit, None at start-up (nothing changed
        then, so there is no catch-up time to measure).
        """
        zc = self.engine.zone_settings(zone)
        if zc is None or self._closed:
            return
        serial = int(soa[0].serial)
        if when is not None:
            self.tracker.change(zone, serial, when)
        for target in zc.notify:
            follow = self._follows.get((zone, target))
            if follow is None or follow.task is None or follow.task.done():
                follow = self._follows[(zone, target)] = _Follow(serial, soa)
                follow.task = asyncio.get_running_loop().create_task(
                    self._run(zone, target, follow)
                )
            else:
                follow.serial, follow.soa = serial, soa
                follow.wake.set()

    async def close(self) -> None:
        self._closed = True
        tasks = [f.task for f in self._follows.values() if f.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, zone: dns.name.Name, target: HostPort, follow: _Follow) -> None:
        try:
            while True:
                serial = follow.serial
                follow.wake.clear()
                if await self._notify(zone, target, follow):
                    await self._watch(zone, target, follow)
                if follow.serial == serial:
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("NOTIFY of %s to %s failed", zone, target)

    async def _notify(self, zone: dns.name.Name, target: HostPort, follow: _Follow) -> bool:
        """Send NOTIFY until it is answered; False if we gave up or a newer serial came."""
        serial = follow.serial
        for attempt, timeout in enumerate(NOTIFY_TIMEOUTS, 1):
            query = self._message(zone, follow.soa)
            if query is None:
                return False
            send = dns.asyncquery.udp(query, target.host, timeout=timeout, port=target.port)
            try:
                reply = await send
            except dns.exception.Timeout:
                log.info(
                    "NOTIFY of %s serial %d to %s: no answer within %g s (try %d)",
                    zone,
                    serial,
                    target,
                    timeout,
                    attempt,
                )
                if follow.serial != serial:
                    return False  # a newer commit: notify that instead
                continue
            except (OSError, dns.exception.DNSException) as exc:
                log.warning("NOTIFY of %s serial %d to %s: %s", zone, serial, target, exc)
                if await _woken(follow, timeout):
                    return False
                continue
            rcode = reply.rcode()
            NOTIFIES.labels(
                "sent", "acknowledged" if rcode == dns.rcode.NOERROR else "refused"
            ).inc()
            if rcode != dns.rcode.NOERROR:
                log.warning(
                    "NOTIFY of %s serial %d to %s answered %s; check that secondary's"
                    " configuration (allow-notify / acl, and the key)",
                    zone,
                    serial,
                    target,
                    dns.rcode.to_text(rcode),
                )
                return False
            log.info("NOTIFY of %s serial %d to %s acknowledged", zone, serial, target)
            return True
        NOTIFIES.labels("sent", "unanswered").inc()
        log.error(
            "NOTIFY of %s serial %d to %s: no answer after %d tries; giving up (the"
            " secondary will still see the change at its next SOA refresh)",
            zone,
            serial,
            target,
            len(NOTIFY_TIMEOUTS),
        )
        return False

    def _message(self, zone: dns.name.Name, soa: dns.rrset.RRset) -> dns.message.Message | None:
        query = dns.message.make_query(zone, dns.rdatatype.SOA)
        query.set_opcode(dns.opcode.NOTIFY)
        query.flags = (query.flags & ~dns.flags.RD) | dns.flags.AA
        query.answer.append(soa)  # RFC 1996 §3.7: the new SOA, as a hint
        zc = self.engine.zone_settings(zone)
        if zc is not None and zc.notify_key is not None:
            found = self.keyring.find(dns.name.from_text(zc.notify_key))
            if found is None:
                log.error(
                    "zone %s: notify_key %s is not a key; add it with"
                    " `dynzone key add %s` (NOTIFY not sent)",
                    zone,
                    zc.notify_key,
                    zc.notify_key,
                )
                return None
            query.use_tsig(found[0].dns_key)
        return query

    async def _watch(self, zone: dns.name.Name, target: HostPort, follow: _Follow) -> None:
        """Poll ``target``'s SOA until it serves ``follow.serial`` (or a newer commit)."""
        serial = follow.serial
        waited = 0.0
        i = 0
        while waited < WATCH_LIMIT:
            answer = await ask_serial(zone, target)
            if isinstance(answer, int):
                self.tracker.observe(zone, target, answer)
                if serial_gt(answer, serial):
                    await self._overtake(zone, target, serial, answer)
                    return
                if answer == serial:
                    return
            pause = POLL_PAUSES[min(i, len(POLL_PAUSES) - 1)]
            i += 1
            waited += pause
            if await _woken(follow, pause):
                return
        log.warning(
            "zone %s: secondary %s still does not serve serial %d after %g s",
            zone,
            target,
            serial,
            WATCH_LIMIT,
        )

    async def _overtake(
        self, zone: dns.name.Name, target: HostPort, ours: int, theirs: int
    ) -> None:
        """A secondary serves a serial newer than ours (we were restored from an older
        backup, or the zone was recreated): move ours past it, or that secondary
        would ignore every change until our serial caught up on its own."""
        log.warning(
            "zone %s: secondary %s serves serial %d, newer than ours (%d); moving our serial"
            " past it so that it takes our changes (it will transfer the whole zone once)",
            zone,
            target,
            theirs,
            ours,
        )
        change = ZoneChange(zone, (), serial_past=theirs)
        try:
            await self.engine.commit(ChangeSet("dynzone", f"serial of {target}", (change,)))
        except Exception as exc:  # noqa: BLE001 - logged; the next change tries again
            log.error("zone %s: could not move the serial past %d: %s", zone, theirs, exc)


async def _woken(follow: _Follow, seconds: float) -> bool:
    """Wait ``seconds``; True (early) if a newer serial arrived meanwhile."""
    try:
        await asyncio.wait_for(follow.wake.wait(), seconds)
    except TimeoutError:
        return False
    return True
