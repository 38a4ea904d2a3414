"""A zone as a set of 'owner ttl TYPE rdata' lines, whatever produced it.

dig/kdig output, ``dynzone zone export`` and a transfer made with dnspython
are all turned into the same lines (absolute, lower-case owners; rdata in
dnspython's absolute form), so transfers compare with each other as sets.
"""

from __future__ import annotations

from collections.abc import Iterable

import dns.message
import dns.name
import dns.rdata
import dns.zone


def line(owner: dns.name.Name, ttl: int, rd: dns.rdata.Rdata) -> str:
    return f"{owner.to_text().lower()} {ttl} {rd.rdtype.name} {rd.to_text()}"


def from_rows(rows: list[list[str]]) -> set[str]:
    """dig/kdig answer rows ([owner, ttl, class, type, rdata...])."""
    return {
        line(
            dns.name.from_text(r[0]),
            int(r[1]),
            dns.rdata.from_text("IN", r[3], " ".join(r[4:]), relativize=False),
        )
        for r in rows
    }


def from_zone(zone: dns.zone.Zone) -> set[str]:
    """A dnspython zone read with ``relativize=False``."""
    return {line(name, ttl, rd) for name, ttl, rd in zone.iterate_rdatas()}


def from_text(text: str, origin: str) -> set[str]:
    """A zone file's text (``dynzone zone export``)."""
    return from_zone(dns.zone.from_text(text, origin=origin, relativize=False))


def from_messages(messages: Iterable[dns.message.Message]) -> set[str]:
    """A transfer read with ``dns.query.xfr(..., relativize=False)``."""
    return from_zone(dns.zone.from_xfr(messages, relativize=False))
