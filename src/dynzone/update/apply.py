"""Apply an UPDATE's changes to the zone, in order (RFC 2136 §3.4.2).

The RFC's special cases keep a zone whole instead of refusing the message:

* an added CNAME is ignored where other data exists, other data is ignored
  where a CNAME exists, and a CNAME added where one exists replaces it;
* an added SOA replaces the zone's only if its serial is higher, and is
  ignored elsewhere; a deleted SOA is ignored;
* deleting the NS RRset, or every RRset, at the apex leaves SOA and NS, and
  deleting the apex's last NS record is ignored.
"""

from __future__ import annotations

import dns.rdatatype

from dynzone.engine.changeset import AddRecord, DeleteRecord, DeleteRRset, SetRRset, ZoneEdit
from dynzone.update.sections import Action, Change
from dynzone.zones.checks import CNAME_COMPANIONS
from dynzone.zones.names import key_of
from dynzone.zones.serial import serial_gt
from dynzone.zones.zonefile import Record

_APEX_KEEPS = frozenset({dns.rdatatype.SOA, dns.rdatatype.NS})


def apply_changes(zone: ZoneEdit, changes: list[Change]) -> None:
    origin_key = key_of(zone.origin)
    for c in changes:
        at_apex = key_of(c.name) == origin_key
        if c.action is Action.ADD:
            _add(zone, c, at_apex)
        elif c.action is Action.DELETE_RRSET:
            if not (at_apex and c.rdtype in _APEX_KEEPS):
                zone.apply(DeleteRRset(c.name, c.rdtype))
        elif c.action is Action.DELETE_NAME:
            for rdtype in sorted(zone.types_at(c.name)):
                if not (at_apex and rdtype in _APEX_KEEPS):
                    zone.apply(DeleteRRset(c.name, rdtype))
        else:
            assert c.rdata is not None
            if c.rdtype == dns.rdatatype.SOA:
                continue
            if (
                at_apex
                and c.rdtype == dns.rdatatype.NS
                and zone.rdatas(c.name, c.rdtype) == [c.rdata]
            ):
                continue
            zone.apply(DeleteRecord(c.name, c.rdata))


def _add(zone: ZoneEdit, c: Change, at_apex: bool) -> None:
    assert c.rdata is not None
    present = zone.types_at(c.name)
    if c.rdtype == dns.rdatatype.CNAME:
        if present - CNAME_COMPANIONS - {dns.rdatatype.CNAME}:
            return
        zone.apply(SetRRset(c.name, c.rdtype, c.ttl, (c.rdata,)))
        return
    if dns.rdatatype.CNAME in present and c.rdtype not in CNAME_COMPANIONS:
        return
    if c.rdtype == dns.rdatatype.SOA:
        current = zone.rdatas(c.name, c.rdtype) if at_apex else []
        if current and serial_gt(c.rdata.serial, current[0].serial):  # type: ignore[attr-defined]
            zone.replace_soa(Record(c.name, c.ttl, c.rdata))
        return
    zone.apply(AddRecord(c.name, c.ttl, c.rdata))
