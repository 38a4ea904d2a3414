"""Answer a NOTIFY sent to us (RFC 1996).

dynzone is the primary of every zone it serves, so a NOTIFY can only tell it
what it already knows: one for a served zone from a source we know (a
configured secondary, or a client ``allow_transfer`` admits) is acknowledged
and otherwise ignored. Other sources are REFUSED; zones we do not serve get
NOTAUTH, as NSD and Knot answer.
"""

from __future__ import annotations

import logging

import dns.name
import dns.rcode
import dns.rdataclass

from dynzone.engine import access
from dynzone.engine.access import Action
from dynzone.engine.engine import Engine
from dynzone.logs import security
from dynzone.metrics import NOTIFIES
from dynzone.zones.snapshot import key_of

log = logging.getLogger("dynzone.xfr")


def answer_notify(
    question: tuple[dns.name.Name, int, int],
    key: str | None,
    address: str,
    engine: Engine,
) -> int:
    """The rcode for a NOTIFY about ``question``'s zone from ``address``."""
    qname, _, qclass = question
    zone = engine.catalog.zones.get(key_of(qname)) if qclass == dns.rdataclass.IN else None
    zc = engine.zone_settings(zone.origin) if zone is not None else None
    if zone is None or zc is None:
        log.info("NOTIFY for %s from %s: not a zone we serve; NOTAUTH", qname, address)
        NOTIFIES.labels("received", "NOTAUTH").inc()
        return dns.rcode.NOTAUTH
    if not access.allowed(Action.NOTIFY, zc, address, key):
        security("notify-refused", f"NOTIFY for {qname} from an unknown source", client=address)
        NOTIFIES.labels("received", "REFUSED").inc()
        return dns.rcode.REFUSED
    NOTIFIES.labels("received", "NOERROR").inc()
    log.info("NOTIFY for %s from %s ignored: dynzone is this zone's primary", qname, address)
    return dns.rcode.NOERROR
