"""Write a zone as a zone file: ``dynzone zone export`` and the per-zone ``export_file``.

The export feeds an existing NSD or BIND the way dyndnsd did: the file is
replaced atomically (write, fsync, rename), then ``export_command`` runs.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dns.rdatatype

from dynzone.engine.engine import Engine, Published
from dynzone.zones.snapshot import ZoneSnapshot

log = logging.getLogger("dynzone")

EXPORT_COMMAND_TIMEOUT = 60.0


def zone_text(snapshot: ZoneSnapshot) -> str:
    """The zone in RFC 1035 master-file syntax, SOA first, names in canonical order."""
    origin = snapshot.origin
    lines = [f"$ORIGIN {origin.to_text()}", snapshot.soa.to_text(origin=origin, relativize=True)]
    rrsets = [rr for rr in snapshot.rrsets() if rr.rdtype != dns.rdatatype.SOA]
    rrsets.sort(key=lambda rr: (rr.name, rr.rdtype))
    lines += [rr.to_text(origin=origin, relativize=True) for rr in rrsets]
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` so a reader sees the old file or the new one, never a mix."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_zone(snapshot: ZoneSnapshot, path: Path, command: str | None) -> None:
    """Write ``path`` from ``snapshot``, then run ``command``; failures are logged."""
    zone = snapshot.origin.to_text(omit_final_dot=True)
    try:
        write_atomically(path, zone_text(snapshot))
    except OSError as exc:
        log.error("zone %s: cannot write export_file %s: %s", zone, path, exc.strerror)
        return
    log.info("zone %s: exported serial %d to %s", zone, snapshot.serial, path)
    if command is None:
        return
    try:
        done = subprocess.run(
            ["/bin/sh", "-c", command],
            capture_output=True,
            text=True,
            timeout=EXPORT_COMMAND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        log.error("zone %s: export_command did not finish in %.0f s", zone, EXPORT_COMMAND_TIMEOUT)
        return
    except OSError as exc:
        log.error("zone %s: cannot run export_command: %s", zone, exc.strerror)
        return
    output = (done.stdout + done.stderr).strip().replace("\n", " | ")[:500]
    if done.returncode == 0:
        log.info("zone %s: export_command exited with status 0", zone)
    else:
        log.error(
            "zone %s: export_command exited with status %d: %s", zone, done.returncode, output
        )


class Exporter:
    """The commit subscriber that rewrites each changed zone's ``export_file``.

    Exports run one at a time in a thread of their own, so neither the writer
    (where subscribers are called) nor the event loop waits for the disk or
    the ``export_command``.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="dynzone-export")
        engine.on_commit(self.published)

    def published(self, event: Published) -> None:
        for snapshot in event.zones:
            settings = self.engine.zone_settings(snapshot.origin)
            if settings is not None and settings.export_file is not None:
                self._pool.submit(
                    export_zone, snapshot, settings.export_file, settings.export_command
                )

    def close(self) -> None:
        self._pool.shutdown(wait=True)
