"""The dyndns2 protocol: ``/nic/update`` and ``/nic/checkip``.

Replies are the dyndns2 words, one line per hostname, as ddclient and inadyn
read them: ``good <addrs>``, ``nochg <addrs>``, ``nohost``, ``notfqdn``,
``numhost``, ``abuse``, ``dnserr``, ``911``, and ``badauth`` with HTTP 401.
inadyn looks for substrings ("good", "nochg", "OK", "true", "updated") in the
whole body, so failure replies hold nothing but their word.

A request may also carry an IPv6 prefix (``myipv6prefix``, the FRITZ!Box's
``ip6lanprefix``, deSEC's ``ipv6=PREFIX/LEN``): every host of the user's
granted with an ``ipv6-suffix`` then gets the prefix plus its suffix as its
AAAA, in the same change.

A request is atomic: every hostname is updated, or none is. When one name is
refused, its line says why and every other line says ``dnserr`` (nothing was
changed; try again once the request is fixed).
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from dynzone.engine import access
from dynzone.engine.access import Door
from dynzone.engine.catalog import Catalog
from dynzone.engine.changeset import ChangeSet, Outcome, SetRRset, ZoneChange
from dynzone.http.clientaddr import Address, plain
from dynzone.policy import ADDRESS_TYPES, Identity
from dynzone.store.base import StoreError
from dynzone.zones.snapshot import Match, key_of

log = logging.getLogger("dynzone")

MAX_HOSTS = 20
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_A = int(dns.rdatatype.A)
_AAAA = int(dns.rdatatype.AAAA)


class BadAddress(ValueError):
    """``myip``/``myipv6`` holds something that is not one address per family."""


@dataclass
class Plan:
    """What one request asks for, after checking, before committing."""

    names: list[dns.name.Name] = field(default_factory=list)
    lines: list[str | None] = field(default_factory=list)  # a refusal per name, or None
    v4: ipaddress.IPv4Address | None = None
    v6: ipaddress.IPv6Address | None = None
    offline: bool = False
    # A prefix update: the prefix, every host of the identity's with an
    # ipv6-suffix and the AAAA it gets, and why one of them cannot be updated.
    prefix: ipaddress.IPv6Network | None = None
    suffixed: dict[dns.name.Name, ipaddress.IPv6Address] = field(default_factory=dict)
    suffix_refusal: str | None = None

    @property
    def refused(self) -> bool:
        return self.suffix_refusal is not None or any(line is not None for line in self.lines)

    def addresses(self, name: dns.name.Name | None = None) -> str:
        """The addresses a reply line shows: the request's, or a suffix host's own."""
        v6 = self.suffixed.get(name, self.v6) if name is not None else self.v6
        return ",".join(str(a) for a in (self.v4, v6) if a is not None)


def parse_hostname(text: str) -> dns.name.Name | None:
    """A fully qualified host name, or None (``notfqdn``)."""
    text = text.strip().lower().removesuffix(".")
    if not text or len(text) > 253:
        return None
    labels = text.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    return dns.name.from_text(text + ".")


def parse_addresses(
    params: Mapping[str, str],
) -> tuple[ipaddress.IPv4Address | None, ipaddress.IPv6Address | None]:
    """The addresses in ``myip`` (v4, v6 or "v4,v6") and ``myipv6``/``myip6``."""
    v4: ipaddress.IPv4Address | None = None
    v6: ipaddress.IPv6Address | None = None
    items = []
    for key in ("myip", "myipv6", "myip6", "ipv6"):
        value = params.get(key, "")
        if key == "ipv6" and "/" in value:
            continue  # deSEC's ipv6=PREFIX/LEN: a prefix (parse_prefix)
        items += [v.strip() for v in value.split(",") if v.strip()]
    for item in items:
        try:
            parsed = ipaddress.ip_address(item)
        except ValueError:
            raise BadAddress(item) from None
        if isinstance(parsed, ipaddress.IPv6Address) and parsed.scope_id is not None:
            raise BadAddress(item)  # fe80::1%eth0 names an interface of the client's own
        ip = plain(parsed)
        if isinstance(ip, ipaddress.IPv4Address):
            if v4 is not None and v4 != ip:
                raise BadAddress(item)
            v4 = ip
        else:
            if v6 is not None and v6 != ip:
                raise BadAddress(item)
            v6 = ip
    return v4, v6


PREFIX_KEYS = ("myipv6prefix", "ip6lanprefix", "ipv6")


def parse_prefix(params: Mapping[str, str]) -> ipaddress.IPv6Network | None:
    """The IPv6 prefix of a prefix update: ``myipv6prefix=2001:db8:1:2::/64``,
    the FRITZ!Box's ``ip6lanprefix``, or deSEC's ``ipv6=2001:db8:1:2::/64``.
    Without a length it is a /64; any host bits given are ignored."""
    for key in PREFIX_KEYS:
        text = params.get(key, "").strip()
        if not text or (key == "ipv6" and "/" not in text):
            continue
        if "/" not in text:
            text += "/64"
        try:
            prefix = ipaddress.IPv6Network(text, strict=False)
        except ValueError:
            raise BadAddress(text) from None
        if not 1 <= prefix.prefixlen <= 127 or prefix.network_address.ipv4_mapped:
            raise BadAddress(text)
        return prefix
    return None


def with_suffix(
    prefix: ipaddress.IPv6Network, suffix: ipaddress.IPv6Address
) -> ipaddress.IPv6Address:
    """The address made of ``prefix``'s bits and the rest of ``suffix``'s."""
    host_bits = int(suffix) & int(prefix.hostmask)
    return ipaddress.IPv6Address(int(prefix.network_address) | host_bits)


def plan_update(
    params: Mapping[str, str], identity: Identity, catalog: Catalog, client: Address
) -> Plan | str:
    """Check a request; returns a Plan, or a single reply word for the whole request."""
    raw = [h for h in params.get("hostname", "").split(",") if h.strip()]
    if not raw:
        return "notfqdn"
    if len(raw) > MAX_HOSTS:
        return "numhost"
    plan = Plan(offline=params.get("offline", "").strip().upper() == "YES")
    if not plan.offline:
        plan.prefix = parse_prefix(params)
        plan.v4, plan.v6 = parse_addresses(params)
        # A request with addresses of neither family means the client's own;
        # one with only a prefix changes the suffix hosts alone.
        if plan.v4 is None and plan.v6 is None and plan.prefix is None:
            if isinstance(client, ipaddress.IPv4Address):
                plan.v4 = client
            else:
                plan.v6 = client
    if plan.prefix is not None:
        _plan_suffixes(plan, identity, catalog)
    for text in raw:
        name = parse_hostname(text)
        plan.names.append(name or dns.name.empty)
        if name is None:
            plan.lines.append("notfqdn")
            continue
        if plan.offline:
            wanted: set[int] | frozenset[int] = ADDRESS_TYPES
        else:
            v6 = plan.suffixed.get(name, plan.v6)
            wanted = {t for t, a in ((_A, plan.v4), (_AAAA, v6)) if a is not None}
        plan.lines.append(_refusal(name, wanted, identity, catalog))
    return plan


def _plan_suffixes(plan: Plan, identity: Identity, catalog: Catalog) -> None:
    """Every host with an ipv6-suffix in the identity's grants gets prefix + suffix."""
    assert plan.prefix is not None
    for grant in identity.grants:
        if not grant.ipv6_suffix:
            continue
        name = dns.name.from_text(grant.pattern)
        refusal = _refusal(name, {_AAAA}, identity, catalog)
        if refusal is not None:
            plan.suffix_refusal = f"{name}: {refusal}"
            return
        suffix = ipaddress.IPv6Address(grant.ipv6_suffix)
        plan.suffixed[name] = with_suffix(plan.prefix, suffix)


def _refusal(
    name: dns.name.Name, wanted: set[int] | frozenset[int], identity: Identity, catalog: Catalog
) -> str | None:
    """``nohost`` if the name is not this identity's to change, or not in a served zone."""
    if not all(access.may_change(identity, Door.DYNDNS2, name, t) for t in wanted):
        return "nohost"
    key = key_of(name)
    zone = catalog.find_zone(key)
    if zone is None:
        return "nohost"
    look = zone.find(key, _A)
    if look.match in (Match.REFERRAL, Match.DNAME):
        return "nohost"  # delegated away, or renamed by a DNAME: not data we serve
    if look.match is Match.EXACT and dns.rdatatype.CNAME in look.node:
        return "nohost"  # an alias cannot also have addresses
    return None


def build_changeset(
    plan: Plan,
    catalog: Catalog,
    ttl_of: Callable[[dns.name.Name], int],
    identity: Identity,
    source: str,
) -> ChangeSet:
    """One ChangeSet for every name in the plan (grouped by zone); ``ttl_of`` gives a
    zone's ``dynamic_ttl``."""
    by_zone: dict[dns.name.Name, list[SetRRset]] = {}
    done: set[tuple[dns.name.Name, int]] = set()

    def put(name: dns.name.Name, rdtype: int, addr: Address | None) -> None:
        if (name, rdtype) in done or (addr is None and not plan.offline):
            return
        done.add((name, rdtype))
        zone = catalog.find_zone(key_of(name))
        assert zone is not None
        ops = by_zone.setdefault(zone.origin, [])
        if addr is None:
            ops.append(SetRRset(name, rdtype, ttl_of(zone.origin), ()))
            return
        rd = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.RdataType.make(rdtype), str(addr))
        ops.append(SetRRset(name, rdtype, ttl_of(zone.origin), (rd,)))

    for name in plan.names:
        put(name, _A, plan.v4)
        put(name, _AAAA, plan.suffixed.get(name, plan.v6))
    for name, addr in plan.suffixed.items():
        put(name, _AAAA, addr)
    return ChangeSet(
        identity.name, source, tuple(ZoneChange(z, tuple(ops)) for z, ops in by_zone.items())
    )


def reply_lines(plan: Plan, outcomes: list[Outcome]) -> list[str]:
    """``good``/``nochg`` per name after a successful commit."""
    lines = []
    for name in plan.names:
        addrs = plan.addresses(name)
        changed = any(o.touched(name) for o in outcomes)
        word = "good" if changed else "nochg"
        lines.append(f"{word} {addrs}" if addrs else word)
    return lines


def refusal_lines(plan: Plan) -> list[str]:
    """The atomic refusal: each refused name says why, the others ``dnserr``."""
    return [line if line is not None else "dnserr" for line in plan.lines]


def rejected_lines(plan: Plan, refused: dns.name.Name | None) -> list[str]:
    """The lines for a list refused inside the transaction (a race the snapshot
    check could not see): ``nohost`` for the refused name, ``dnserr`` for the
    others; ``nohost`` for every line when the refusal names none of them."""
    if refused is None or refused not in plan.names:
        return ["nohost"] * len(plan.names)
    return ["nohost" if name == refused else "dnserr" for name in plan.names]


def is_store_failure(exc: BaseException) -> bool:
    return isinstance(exc, StoreError | OSError)


CHECKIP_PAGE = (
    "<html><head><title>Current IP Check</title></head>"
    "<body>Current IP Address: {addr}</body></html>\n"
)
