"""Load a zone file: read and checked, or told exactly why not."""

from __future__ import annotations

from pathlib import Path

import dns.name

from dynzone.zones.checks import Problem, check_records
from dynzone.zones.zonefile import Location, Record, ZoneFileError, parse_zone_file


class ZoneLoadError(Exception):
    """A zone file that cannot be served; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = str(problems[0])
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(first + more)


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


def load_records(origin: dns.name.Name, path: Path) -> tuple[list[Record], list[str]]:
    """Read and check a zone file: its records and the files read (the file, then its
    $INCLUDEs); raise ZoneLoadError on any problem."""
    records, problems, files = read_and_check(origin, path)
    if problems:
        raise ZoneLoadError(problems)
    return records, files
