"""How far each secondary has got: the serial it serves and how fast it caught up.

The server records, per zone and secondary, when it saw the secondary serve
the serial of the latest change (notify_out.py polls its SOA after each
NOTIFY). Those observations live in memory and in ``propagation.json`` in the
data directory, so ``dynzone zone status`` (another process) reads them too.

A status report always asks each secondary for its SOA at that moment; the
recorded catch-up time is shown when it belongs to the current serial.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.asyncquery
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from dynzone.data_dir import write_private
from dynzone.engine.settings import HostPort

log = logging.getLogger("dynzone.xfr")

FILE_NAME = "propagation.json"


@dataclass
class Seen:
    """What one secondary was last seen serving, and its latest catch-up."""

    serial: int | None = None
    seen_at: float | None = None
    caught_up_serial: int | None = None
    catch_up_seconds: float | None = None


class Tracker:
    """Observations of every secondary of every zone, saved as JSON on change."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME
        self.seen: dict[str, dict[str, Seen]] = {}
        self.changed_at: dict[str, tuple[int, float]] = {}  # zone -> (serial, when)
        for zone, targets in load(data_dir).items():
            self.seen[zone] = {t: Seen(**v) for t, v in targets.items()}

    def change(self, zone: dns.name.Name, serial: int, when: float) -> None:
        """A commit made ``serial`` current at ``when``."""
        self.changed_at[zone.to_text()] = (serial, when)

    def observe(self, zone: dns.name.Name, target: HostPort, serial: int) -> None:
        """``target`` answered its SOA query with ``serial``."""
        now = time.time()
        seen = self.seen.setdefault(zone.to_text(), {}).setdefault(str(target), Seen())
        moved = seen.serial != serial
        seen.serial, seen.seen_at = serial, now
        latest = self.changed_at.get(zone.to_text())
        if latest is not None and latest[0] == serial and seen.caught_up_serial != serial:
            seen.caught_up_serial = serial
            seen.catch_up_seconds = round(now - latest[1], 3)
            log.info(
                "zone %s: secondary %s serves serial %d, %.3f s after the change",
                zone,
                target,
                serial,
                seen.catch_up_seconds,
            )
            moved = True
        if moved:
            self.save()

    def save(self) -> None:
        data = {z: {t: vars(s) for t, s in ts.items()} for z, ts in self.seen.items()}
        try:
            write_private(self.path, json.dumps(data, indent=1).encode())
        except OSError as exc:
            log.warning("cannot save %s: %s", self.path, exc.strerror)


def load(data_dir: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """The recorded observations, by zone (with final dot) and secondary."""
    try:
        data = json.loads((data_dir / FILE_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


async def ask_serial(zone: dns.name.Name, target: HostPort, timeout: float = 1.0) -> int | str:
    """The SOA serial ``target`` serves for ``zone`` now, or why there is none."""
    query = dns.message.make_query(zone, dns.rdatatype.SOA)
    query.flags = 0  # not recursive: we ask the secondary what it holds itself
    try:
        reply = await dns.asyncquery.udp(query, target.host, timeout=timeout, port=target.port)
    except dns.exception.Timeout:
        return f"no answer within {timeout:g} s"
    except (OSError, dns.exception.DNSException) as exc:
        return f"query failed: {exc}"
    if reply.rcode() != dns.rcode.NOERROR:
        return f"answers {dns.rcode.to_text(reply.rcode())}"
    for rrset in reply.answer:
        if rrset.rdtype == dns.rdatatype.SOA and rrset.name == zone:
            return int(rrset[0].serial)
    return "answers without the zone's SOA (not loaded yet?)"


async def report(
    zone: dns.name.Name,
    serial: int,
    changed_at: float | None,
    targets: tuple[HostPort, ...],
    recorded: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The propagation status of ``zone``, asking every secondary now (in parallel)."""
    answers = await asyncio.gather(*(ask_serial(zone, t) for t in targets))
    now = time.time()
    secondaries = []
    for target, answer in zip(targets, answers, strict=True):
        rec = recorded.get(str(target), {})
        served = answer if isinstance(answer, int) else None
        current = served == serial
        catch_up = rec.get("catch_up_seconds") if rec.get("caught_up_serial") == serial else None
        secondaries.append(
            {
                "address": str(target),
                "serial": served,
                "current": current,
                "catch_up_seconds": catch_up,
                "behind_seconds": (
                    None if current or changed_at is None else round(now - changed_at, 3)
                ),
                "error": None if isinstance(answer, int) else answer,
            }
        )
    return {
        "zone": zone.to_text(),
        "serial": serial,
        "changed_at": _iso(changed_at),
        "secondaries": secondaries,
    }


def text(status: dict[str, Any]) -> str:
    """A report as ``dynzone zone status`` prints it."""
    lines = [
        f"zone {status['zone']} serial {status['serial']}"
        + (f", last change {status['changed_at']}" if status["changed_at"] else "")
    ]
    if not status["secondaries"]:
        lines.append("no secondaries: set notify = [...] for this zone to have some")
    for s in status["secondaries"]:
        if s["error"] is not None:
            state = f"? ({s['error']})"
        elif s["current"]:
            took = s["catch_up_seconds"]
            state = "current"
            if took is not None:
                state += f", caught up {took:.3f} s after the change"
        else:
            behind = s["behind_seconds"]
            state = "behind" + (f" for {behind:.1f} s" if behind is not None else "")
        served = "-" if s["serial"] is None else s["serial"]
        lines.append(f"  {s['address']:<24} serial {served}  {state}")
    return "\n".join(lines) + "\n"


def _iso(when: float | None) -> str | None:
    if when is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
