"""Load a zone file: read and checked, or told exactly why not."""

from __future__ import annotations

from pathlib import Path

import dns.name

from dynzone.zones.checks import Problem, check_rows
from dynzone.zones.zone_rows import ZoneRows
from dynzone.zones.zonefile import Location, ZoneFileError, parse_zone_file


class ZoneLoadError(Exception):
    """A zone file that cannot be served; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = str(problems[0])
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(first + more)


def read_and_check(origin: dns.name.Name, path: Path) -> tuple[ZoneRows, list[Problem], list[str]]:
    """Parse and check a zone file; syntax errors become problems too."""
    at = Location(str(path), 0)
    try:
        parsed = parse_zone_file(path, origin)
    except ZoneFileError as exc:
        return _none(path), [Problem(exc.where, exc.message)], []
    except FileNotFoundError:
        return _none(path), [Problem(at, "zone file not found")], []
    except OSError as exc:
        return _none(path), [Problem(at, f"cannot read zone file: {exc.strerror}")], []
    except UnicodeDecodeError as exc:
        return _none(path), [Problem(at, f"not UTF-8 text: {exc.reason}")], []
    problems = [
        Problem(where, f"{name} is outside the zone {origin}") for name, where in parsed.outside
    ]
    problems += check_rows(origin, parsed.rows)
    problems.sort(key=lambda p: (p.where.file, p.where.line))
    return parsed.rows, problems, [str(path), *parsed.included]


def load_rows(origin: dns.name.Name, path: Path) -> tuple[ZoneRows, list[str]]:
    """Read and check a zone file: its records as store rows and the files read (the
    file, then its $INCLUDEs); raise ZoneLoadError on any problem."""
    rows, problems, files = read_and_check(origin, path)
    if problems:
        raise ZoneLoadError(problems)
    return rows, files


def _none(path: Path) -> ZoneRows:
    return ZoneRows([], [], str(path))
