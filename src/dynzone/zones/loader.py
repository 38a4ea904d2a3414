"""Load a configured zone from its file into a snapshot, or say exactly why not."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import dns.name

from dynzone.zones.checks import Problem, check_records
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.zonefile import Location, Record, ZoneFileError, parse_zone_file

Fingerprint = tuple[tuple[str, int, int], ...]


class ZoneLoadError(Exception):
    """A zone file that cannot be served; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = str(problems[0])
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(first + more)


@dataclass(frozen=True)
class LoadedZone:
    snapshot: ZoneSnapshot
    fingerprint: Fingerprint


def fingerprint(paths: list[str]) -> Fingerprint:
    """Identity of the files a zone was read from (path, mtime, size)."""
    out = []
    for p in paths:
        try:
            st = os.stat(p)
            out.append((p, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((p, -1, -1))
    return tuple(out)


def read_and_check(
    origin: dns.name.Name, path: Path
) -> tuple[list[Record], list[Problem], list[str]]:
    """Parse and check a zone file; syntax errors become problems too."""
    try:
        parsed = parse_zone_file(path, origin)
    except ZoneFileError as exc:
        return [], [Problem(exc.where, exc.message)], []
    except FileNotFoundError:
        return [], [Problem(Location(str(path), 0), "zone file not found")], []
    except OSError as exc:
        return [], [Problem(Location(str(path), 0), f"cannot read zone file: {exc.strerror}")], []
    except UnicodeDecodeError as exc:
        return [], [Problem(Location(str(path), 0), f"not UTF-8 text: {exc.reason}")], []
    problems = [
        Problem(where, f"{name} is outside the zone {origin}") for name, where in parsed.outside
    ]
    problems += check_records(origin, parsed.records, str(path))
    problems.sort(key=lambda p: (p.where.file, p.where.line))
    return parsed.records, problems, [str(path), *parsed.included]


def load_zone(origin: dns.name.Name, path: Path) -> LoadedZone:
    """Read, check and index a zone file; raise ZoneLoadError on any problem."""
    # Stat before reading: an edit made while we read shows up as a change
    # at the next reload instead of being missed.
    main = fingerprint([str(path)])
    records, problems, files = read_and_check(origin, path)
    if problems:
        raise ZoneLoadError(problems)
    snapshot = ZoneSnapshot(origin, records, source=str(path))
    return LoadedZone(snapshot, main + fingerprint(files[1:]))
