"""Read an UPDATE's prerequisite and update sections and check their form.

RFC 2136 §3.2 (prerequisites) and §3.4.1 (the update prescan): every record
must name something in the zone (else NOTZONE) and use one of the forms the
RFC defines (else FORMERR). Nothing here looks at the zone's data; that is
``prerequisites.py`` and ``apply.py``, inside the commit's transaction.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import dns.exception
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.wire

from dynzone.update.message import UpdateRR, is_meta


class UpdateError(Exception):
    """The UPDATE is answered with ``rcode`` and changes nothing."""

    def __init__(self, rcode: int, reason: str) -> None:
        super().__init__(reason)
        self.rcode = rcode


class Need(Enum):
    """The five prerequisite forms of RFC 2136 §2.4."""

    NAME_IN_USE = "name is in use"  # class ANY, type ANY
    RRSET_EXISTS = "RRset exists"  # class ANY, type T
    NAME_NOT_IN_USE = "name is not in use"  # class NONE, type ANY
    RRSET_ABSENT = "RRset does not exist"  # class NONE, type T
    RRSET_EQUALS = "RRset exists with these records"  # zone class, type T, rdata


@dataclass(frozen=True)
class Prerequisite:
    need: Need
    name: dns.name.Name
    rdtype: int = dns.rdatatype.ANY
    rdatas: frozenset[dns.rdata.Rdata] = frozenset()


class Action(Enum):
    """The four update forms of RFC 2136 §2.5."""

    ADD = "add"  # zone class
    DELETE_RRSET = "delete RRset"  # class ANY, type T
    DELETE_NAME = "delete all RRsets at a name"  # class ANY, type ANY
    DELETE_RR = "delete one record"  # class NONE


@dataclass(slots=True)
class Change:
    action: Action
    name: dns.name.Name
    rdtype: int
    ttl: int = 0
    rdata: dns.rdata.Rdata | None = None


def check_ttls(wire: bytes) -> None:
    """FORMERR unless every prerequisite, and every deletion, has TTL 0.

    Read from the wire because dnspython drops the TTL of a record without
    rdata, which is what most of these forms are.
    """
    zones, prereqs, updates = struct.unpack_from("!HHH", wire, 4)
    parser = dns.wire.Parser(wire, 12)
    try:
        for _ in range(zones):
            parser.get_name(decompress=True)
            parser.seek(parser.current + 4)
        for i in range(prereqs + updates):
            name = parser.get_name(decompress=True)
            _, rdclass, ttl, rdlen = parser.get_struct("!HHIH")
            parser.seek(parser.current + rdlen)
            deletion = rdclass in (dns.rdataclass.ANY, dns.rdataclass.NONE)
            if ttl and (i < prereqs or deletion):
                what = "prerequisite" if i < prereqs else "deletion"
                raise UpdateError(dns.rcode.FORMERR, f"{what} at {name}: TTL must be 0")
    except dns.exception.FormError:
        raise UpdateError(dns.rcode.FORMERR, "malformed record") from None


_EMPTY_FORMS: dict[int, tuple[Need, Need]] = {
    dns.rdataclass.ANY: (Need.NAME_IN_USE, Need.RRSET_EXISTS),
    dns.rdataclass.NONE: (Need.NAME_NOT_IN_USE, Need.RRSET_ABSENT),
}


def type_text(rdtype: int) -> str:
    """A record type's name (``TYPE65280`` for one without a name)."""
    return dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))


class _Described:
    """``section name TYPE`` of a record, rendered only if a message needs it."""

    __slots__ = ("record", "section")

    def __init__(self, section: str, record: UpdateRR) -> None:
        self.section = section
        self.record = record

    def __str__(self) -> str:
        return f"{self.section} {self.record.name} {type_text(self.record.rdtype)}"


def check_sent_ttls(prerequisites: list[UpdateRR], updates: list[UpdateRR]) -> None:
    """``check_ttls`` for records read with the TTLs they were sent with."""
    for i, rr in enumerate((*prerequisites, *updates)):
        prereq = i < len(prerequisites)
        if rr.ttl and (prereq or rr.deleting is not None):
            what = "prerequisite" if prereq else "deletion"
            raise UpdateError(dns.rcode.FORMERR, f"{what} at {rr.name}: TTL must be 0")


def read_prerequisites(
    records: list[UpdateRR],
    in_zone: Callable[[dns.name.Name], bool],
) -> list[Prerequisite]:
    """The prerequisite section as Prerequisites (§3.2.1-3.2.5); TTLs: ``check_ttls``."""
    out: list[Prerequisite] = []
    values: dict[tuple[dns.name.Name, int], set[dns.rdata.Rdata]] = {}
    for rrset in records:
        # Named only when refused: rendering the name costs more than the checks.
        what = _Described("prerequisite", rrset)
        if not in_zone(rrset.name):
            raise UpdateError(dns.rcode.NOTZONE, f"{what}: not in the zone")
        rdata = rrset.rdata
        if rrset.deleting is not None:
            # Class ANY asks for existence, class NONE for absence (§2.4.1-2.4.4).
            of_name, of_rrset = _EMPTY_FORMS[rrset.deleting]
            if rrset.rdtype == dns.rdatatype.ANY:
                out.append(Prerequisite(of_name, rrset.name))
            elif is_meta(rrset.rdtype):
                raise UpdateError(dns.rcode.FORMERR, f"{what}: not a record type")
            else:
                out.append(Prerequisite(of_rrset, rrset.name, rrset.rdtype))
        elif rrset.rdclass == dns.rdataclass.IN:
            if is_meta(rrset.rdtype) or rdata is None:
                raise UpdateError(dns.rcode.FORMERR, f"{what}: not a record")
            values.setdefault((rrset.name, rrset.rdtype), set()).add(rdata)
        else:
            raise UpdateError(dns.rcode.FORMERR, f"{what}: class must be IN, ANY or NONE")
    # §3.2.5: the records of one value-dependent RRset are compared as a whole.
    for (name, rdtype), rdatas in values.items():
        out.append(Prerequisite(Need.RRSET_EQUALS, name, rdtype, frozenset(rdatas)))
    return out


def read_changes(
    records: list[UpdateRR],
    in_zone: Callable[[dns.name.Name], bool],
) -> list[Change]:
    """The update section as Changes, in message order (§3.4.1 prescan)."""
    out: list[Change] = []
    for rrset in records:
        what = _Described("update", rrset)
        if not in_zone(rrset.name):
            raise UpdateError(dns.rcode.NOTZONE, f"{what}: not in the zone")
        rdata = rrset.rdata
        if rrset.deleting == dns.rdataclass.ANY:
            if rrset.rdtype in _XFR_MAIL:
                raise UpdateError(dns.rcode.FORMERR, f"{what}: malformed RRset deletion")
            if rrset.rdtype == dns.rdatatype.ANY:
                out.append(Change(Action.DELETE_NAME, rrset.name, rrset.rdtype))
            elif is_meta(rrset.rdtype):
                raise UpdateError(dns.rcode.FORMERR, f"{what}: not a record type")
            else:
                out.append(Change(Action.DELETE_RRSET, rrset.name, rrset.rdtype))
        elif rrset.deleting == dns.rdataclass.NONE:
            if is_meta(rrset.rdtype) or rdata is None:
                raise UpdateError(dns.rcode.FORMERR, f"{what}: malformed record deletion")
            out.append(Change(Action.DELETE_RR, rrset.name, rrset.rdtype, 0, rdata))
        elif rrset.rdclass == dns.rdataclass.IN:
            if is_meta(rrset.rdtype) or rdata is None:
                raise UpdateError(dns.rcode.FORMERR, f"{what}: not a record one can add")
            out.append(Change(Action.ADD, rrset.name, rrset.rdtype, rrset.ttl, rdata))
        else:
            raise UpdateError(dns.rcode.FORMERR, f"{what}: class must be IN, ANY or NONE")
    return out


_XFR_MAIL = frozenset(
    {dns.rdatatype.AXFR, dns.rdatatype.IXFR, dns.rdatatype.MAILA, dns.rdatatype.MAILB}
)
