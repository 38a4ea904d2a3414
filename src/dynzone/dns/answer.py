"""The authoritative lookup: RFC 1034 §4.3.2 with RFC 2308, 4592, 6672 and 8482.

``resolve`` turns (query name, type) into an ``Answer``: rcode, AA, and the
RRsets for each section. It never touches the wire; ``render.py`` does that.
Where the RFCs leave a choice we do what NSD does (see
tests/e2e/DISAGREEMENTS.md for where NSD and Knot differ):

* positive answers carry the zone's NS RRset in authority and the addresses
  of NS, MX and SRV targets in additional;
* CNAME and DNAME chains are followed into any zone we serve, and stop at a
  name already visited (a loop) or a name we do not serve;
* ANY returns one RRset (RFC 8482 §4.1): the SOA at an apex, otherwise the
  RRset with the lowest type code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.name
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.rrset

from dynzone.engine.catalog import Catalog
from dynzone.zones.deps import Deps, rrset_tag
from dynzone.zones.snapshot import Match, Node, ZoneSnapshot, key_of, rename

_ADDRESS = (dns.rdatatype.A, dns.rdatatype.AAAA)

# A chain longer than this is cut short, as NSD and Knot do; loops stop earlier.
MAX_CHAIN = 16

# Types whose target names get A/AAAA in the additional section.
_ADDITIONAL_TARGET = {
    dns.rdatatype.NS: "target",
    dns.rdatatype.MX: "exchange",
    dns.rdatatype.SRV: "target",
    dns.rdatatype.KX: "exchanger",
    dns.rdatatype.RT: "exchange",
}


@dataclass(slots=True)
class Answer:
    """What to say: rcode, authority flag and sections as lists of RRsets.

    ``optional_authority`` marks an authority section that may be left out
    when the message is too big (the NS RRset of a positive answer), as
    opposed to one a resolver needs (SOA of a negative answer, referral NS).
    """

    rcode: int = dns.rcode.NOERROR
    aa: bool = True
    answer: list[dns.rrset.RRset] = field(default_factory=list)
    authority: list[dns.rrset.RRset] = field(default_factory=list)
    additional: list[dns.rrset.RRset] = field(default_factory=list)
    optional_authority: bool = False


def resolve(
    catalog: Catalog,
    qname: dns.name.Name,
    qtype: int,
    key: bytes | None = None,
    deps: Deps | None = None,
) -> Answer:
    """Answer ``qname``/``qtype`` (class IN) from the zones in ``catalog``.

    ``key`` is ``qname``'s index key when the caller already has it. ``deps``,
    if given, collects everything the answer was read from (zones/deps.py),
    so that a cached copy can be retired when any of it changes.
    """
    if key is None:
        key = key_of(qname)
    zone = catalog.find_zone(key)
    if zone is None:
        return Answer(rcode=dns.rcode.REFUSED, aa=False)
    if qtype == dns.rdatatype.DS and key == zone.key:
        # DS belongs to the parent side of a cut (RFC 4035 §3.1.4.1).
        parent = catalog.parent_zone(zone)
        if parent is not None:
            zone = parent

    ans = Answer()
    # RRsets in the answer, each with the zone it came from (for additional data).
    found: list[tuple[dns.rrset.RRset, ZoneSnapshot]] = []
    visited = {key}
    name = qname
    positive = False
    for _ in range(MAX_CHAIN):
        look = zone.find(key, qtype, deps)
        match = look.match
        if match is Match.REFERRAL:
            if not found:
                ans.aa = False
            ns = _used(look.node, dns.rdatatype.NS, look.owner, deps)
            ans.authority.append(ns)
            ans.additional = _addresses([(ns, zone)], set(), True, deps)
            break
        if match is Match.NXDOMAIN:
            ans.rcode = dns.rcode.NXDOMAIN
            ans.authority.append(zone.negative_soa)
            break
        if match is Match.DNAME:
            dname = _used(look.node, dns.rdatatype.DNAME, look.owner, deps)
            found.append((dname, zone))
            try:
                target = name.relativize(dname.name).concatenate(dname[0].target)
            except dns.name.NameTooLong:
                ans.rcode = dns.rcode.YXDOMAIN  # RFC 6672 §2.2
                break
            synthesised = dns.rrset.RRset(name, dname.rdclass, dns.rdatatype.CNAME)
            synthesised.add(
                dns.rdata.from_text(dname.rdclass, dns.rdatatype.CNAME, target.to_text()),
                dname.ttl,
            )
            found.append((synthesised, zone))
            if qtype == dns.rdatatype.CNAME:
                break  # the synthesised CNAME is what was asked for
        else:  # EXACT or WILDCARD
            node: Node = look.node
            rrset = _pick(node, qtype, key == zone.key)
            if rrset is not None:
                if deps is not None:
                    deps.tags.add(rrset_tag(look.owner, rrset.rdtype))
                if match is Match.WILDCARD:
                    rrset = rename(rrset, name)
                found.append((rrset, zone))
                positive = True
                # NSD adds the zone's NS RRset to positive answers, except when
                # it is the answer itself, for ANY (kept minimal, RFC 8482) and
                # for DS at a cut.
                if (
                    qtype != dns.rdatatype.ANY
                    and not (rrset.rdtype == dns.rdatatype.NS and key == zone.key)
                    and not (match is Match.EXACT and dns.rdatatype.NS in node and key != zone.key)
                ):
                    ans.authority.append(zone.ns)
                    ans.optional_authority = True
                break
            cname = node.get(dns.rdatatype.CNAME)
            if cname is None or qtype == dns.rdatatype.CNAME:
                # The name exists (or a wildcard covers it) without this type.
                ans.authority.append(zone.negative_soa)
                break
            if deps is not None:
                deps.tags.add(rrset_tag(look.owner, dns.rdatatype.CNAME))
            if match is Match.WILDCARD:
                cname = rename(cname, name)
            found.append((cname, zone))
            target = cname[0].target
        # Restart at the CNAME's target (RFC 1034 §4.3.2 step 3a), in any zone we serve.
        step = _follow(catalog, target, visited)
        if step is None:
            break
        zone, key = step
        name = target

    ans.answer = [rrset for rrset, _ in found]
    if positive:
        ans.additional = _additional(found, zone, ans.authority, deps)
    return ans


def _used(node: Node, rdtype: int, owner: bytes, deps: Deps | None) -> dns.rrset.RRset:
    """The RRset ``rdtype`` of ``node`` (at ``owner``), noted as read."""
    if deps is not None:
        deps.tags.add(rrset_tag(owner, rdtype))
    return node[rdtype]


def _follow(
    catalog: Catalog, target: dns.name.Name, visited: set[bytes]
) -> tuple[ZoneSnapshot, bytes] | None:
    """The zone and key to continue a CNAME/DNAME chain with, or None to stop."""
    key = key_of(target)
    if key in visited:
        return None
    visited.add(key)
    zone = catalog.find_zone(key)
    return None if zone is None else (zone, key)


def _pick(node: Node, qtype: int, at_apex: bool) -> dns.rrset.RRset | None:
    """The RRset that answers ``qtype`` at this node, if there is one."""
    if qtype != dns.rdatatype.ANY:
        return node.get(qtype)
    if not node:
        return None
    if at_apex and dns.rdatatype.SOA in node:
        return node[dns.rdatatype.SOA]
    return node[min(node)]


def _additional(
    found: list[tuple[dns.rrset.RRset, ZoneSnapshot]],
    last_zone: ZoneSnapshot,
    authority: list[dns.rrset.RRset],
    deps: Deps | None,
) -> list[dns.rrset.RRset]:
    """Addresses of targets named in the answer and authority, never glue."""
    sources = [*found, *((rrset, last_zone) for rrset in authority)]
    in_answer: set[tuple[bytes, int]] = {
        (key_of(r.name), r.rdtype) for r, _ in found if r.rdtype in _ADDRESS
    }
    return _addresses(sources, in_answer, False, deps)


def _addresses(
    sources: list[tuple[dns.rrset.RRset, ZoneSnapshot]],
    skip: set[tuple[bytes, int]],
    allow_glue: bool,
    deps: Deps | None,
) -> list[dns.rrset.RRset]:
    """A and AAAA RRsets of the NS/MX/SRV targets in ``sources``: all A, then all AAAA
    (NSD's order), each target once, none already in ``skip``. Glue (data at or
    below a cut) only with ``allow_glue``, for referrals."""
    seen: set[bytes] = set()
    a: list[dns.rrset.RRset] = []
    aaaa: list[dns.rrset.RRset] = []
    for rrset, zone in sources:
        attr = _ADDITIONAL_TARGET.get(rrset.rdtype)
        if attr is None:
            continue
        for rdata in rrset:
            target = getattr(rdata, attr)
            key = key_of(target)
            if key in seen:
                continue
            seen.add(key)
            for addr in zone.addresses_for(target, allow_glue, key, deps):
                if (key, addr.rdtype) not in skip:
                    (a if addr.rdtype == dns.rdatatype.A else aaaa).append(addr)
    return a + aaaa
