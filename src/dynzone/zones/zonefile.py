"""Read RFC 1035 master files with dnspython, keeping where each record came from.

dnspython parses the syntax ($ORIGIN, $TTL, $INCLUDE, $GENERATE, parentheses,
every record type it knows). Its zone object, however, silently resolves some
conflicts (a CNAME added beside other data replaces that data) and forgets line
numbers, so we feed its reader a collecting transaction instead: every record
comes back with the file and line it was written on, and ``checks.py`` can
report problems as ``file:line: message``.
"""

from __future__ import annotations

import builtins
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.tokenizer
import dns.zonefile

if TYPE_CHECKING:
    from dynzone.zones.zone_rows import ZoneRows


@dataclass(frozen=True, slots=True)
class Location:
    """Where a record was written: file and 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Record:
    """One resource record as read from a zone file."""

    name: dns.name.Name
    ttl: int
    rdata: dns.rdata.Rdata
    where: Location | None = None  # None for records that came from the store


class ZoneFileError(Exception):
    """A zone file could not be parsed; ``where`` says where it broke."""

    def __init__(self, where: Location, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass
class ParsedZone:
    """Everything read from a zone file."""

    rows: ZoneRows  # the records, as the store keeps them
    included: list[str]  # files pulled in with $INCLUDE
    outside: list[tuple[dns.name.Name, Location]]  # names not in the zone (skipped)


class _Collector:
    """The slice of dnspython's Transaction API that its zone-file Reader calls."""

    def __init__(self, origin: dns.name.Name) -> None:
        self.origin = origin
        self.manager = self
        self.records: list[Record] = []
        self.where = Location("?", 0)
        self.included: list[str] = []
        self.outside: list[tuple[dns.name.Name, Location]] = []
        # $INCLUDE name as written -> the path opened (relative to the includer).
        self.resolved: dict[str, str] = {}

    # TransactionManager
    def origin_information(self) -> tuple[dns.name.Name, bool, dns.name.Name]:
        return (self.origin, False, self.origin)

    # Transaction
    def check_put_rdataset(self, check: Callable[..., Any]) -> None:
        """Conflict rules are ours (checks.py), not the reader's."""

    def _set_origin(self, origin: dns.name.Name) -> None:
        """$ORIGIN only changes how later names are read."""

    def add_unicode(self, value: str) -> None:
        """$UNICODE selects an IDNA codec; nothing to record."""

    def add(self, name: dns.name.Name, ttl: int, rdata: dns.rdata.Rdata) -> None:
        self.records.append(Record(name, ttl, rdata, self.where))


_current = threading.local()


class _Reader(dns.zonefile.Reader):
    """dnspython's reader, remembering the line each record starts on."""

    collector: _Collector

    def _here(self) -> Location:
        filename, line = self.tok.where()
        return Location(self.collector.resolved.get(str(filename), str(filename)), int(line))

    # Where the record being read started; dnspython reports errors only after
    # it has read past the line's end, one line too late.
    error_where: Location | None = None

    def _rr_line(self) -> None:
        self._read_located(super()._rr_line)

    def _generate_line(self) -> None:
        self._read_located(super()._generate_line)

    def _read_located(self, read: Callable[[], None]) -> None:
        """Read one record line, remembering where it starts (for it and its errors)."""
        self.collector.where = self._here()
        try:
            read()
        except dns.exception.SyntaxError:
            self.error_where = self.collector.where
            raise

    def _eat_line(self) -> None:
        # dnspython calls this only to skip a name outside the zone; we report it.
        if self.last_name is not None:
            self.collector.outside.append((self.last_name, self.collector.where))
        super()._eat_line()


def _open_relative(file: Any, *args: Any, **kwargs: Any) -> Any:
    """Open an $INCLUDE target relative to the file that includes it.

    dnspython opens $INCLUDE paths relative to the process's working directory;
    a user expects them relative to the zone file, as paths in our config are.
    """
    reader = getattr(_current, "reader", None)
    if reader is not None and isinstance(file, str):
        written = file
        if not os.path.isabs(file):
            file = os.path.join(os.path.dirname(reader._here().file), file)
        reader.collector.resolved[written] = file
        reader.collector.included.append(file)
    return builtins.open(file, *args, **kwargs)


# Only dnspython's zone-file module sees this name; see _open_relative.
dns.zonefile.open = _open_relative  # type: ignore[attr-defined]


def parse_zone_file(path: str | Path, origin: dns.name.Name | str) -> ParsedZone:
    """Parse ``path`` as a master file for ``origin``.

    Raises ZoneFileError (with file and line) for syntax errors and OSError
    when the file cannot be read.
    """
    if isinstance(origin, str):
        origin = dns.name.from_text(origin)
    path = str(path)
    with builtins.open(path, encoding="utf-8") as fh:
        try:
            text = fh.read()
        except UnicodeDecodeError as exc:
            raise ZoneFileError(Location(path, 0), f"not UTF-8 text: {exc.reason}") from None
    return _parse(text, path, origin)


def _parse(text: str, filename: str, origin: dns.name.Name) -> ParsedZone:
    """The quick reader for plain files, dnspython's for everything else."""
    from dynzone.zones.quick_zonefile import quick_parse  # it builds on this module

    parsed = quick_parse(text, filename, origin)
    return parsed if parsed is not None else _read(text, filename, origin)


def read_zone_text(
    text: str, origin: dns.name.Name | str, filename: str = "<zone>"
) -> list[Record]:
    """Parse zone-file text (used for the demo zone and tests)."""
    if isinstance(origin, str):
        origin = dns.name.from_text(origin)
    return _parse(text, filename, origin).rows.records()


def _read(source: Any, filename: str, origin: dns.name.Name) -> ParsedZone:
    from dynzone.zones.zone_rows import ZoneRows  # it builds on this module

    collector = _Collector(origin)
    tok = dns.tokenizer.Tokenizer(source, filename)
    reader = _Reader(tok, dns.rdataclass.IN, collector, allow_include=True)  # type: ignore[arg-type]
    reader.collector = collector
    _current.reader = reader
    try:
        reader.read()
    except dns.exception.SyntaxError as exc:
        # dnspython formats these as "file:line: detail".
        file, _, rest = str(exc).partition(":")
        line, _, detail = rest.partition(":")
        where = reader.error_where
        if where is None and line.strip().isdigit():
            where = Location(collector.resolved.get(file, file), int(line))
        raise _located(where or reader._here(), detail.strip() or str(exc)) from None
    except dns.exception.DNSException as exc:
        where = reader.error_where or reader._here()
        raise _located(where, str(exc) or type(exc).__name__) from None
    except UnicodeDecodeError as exc:
        raise ZoneFileError(Location(filename, 0), f"not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        # An $INCLUDE that cannot be opened.
        raise ZoneFileError(reader._here(), f"cannot read {exc.filename}: {exc.strerror}") from None
    finally:
        _current.reader = None
    rows = ZoneRows.of_records(collector.records, filename, inside=True)
    return ParsedZone(rows, collector.included, collector.outside)


def _located(where: Location, detail: str) -> ZoneFileError:
    """An error at ``where``, quoting the offending line when it can be read."""
    try:
        with builtins.open(where.file, encoding="utf-8", errors="replace") as fh:
            for number, text in enumerate(fh, 1):
                if number == where.line:
                    text = text.strip()
                    if text:
                        detail = f"{detail.rstrip('.')}: {text}"
                    break
    except OSError:
        pass
    return ZoneFileError(where, detail)
