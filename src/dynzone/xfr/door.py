"""Answer AXFR and IXFR queries: access, then the records, from one snapshot.

Access comes first (``allow_transfer``: a TSIG key or a network; nobody by
default). A transfer reads one immutable snapshot from start to end, so a
commit during a long AXFR changes nothing the client receives: it gets the
zone as it was when it asked. IXFR reads the journal for that snapshot's
serial and condenses it (ixfr.py); when the journal does not reach back to
the client's serial the answer is the whole zone, AXFR style (RFC 1995 §4).

Messages are rendered in a worker thread a few at a time, so a large zone
neither blocks the event loop nor sits whole in memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Executor

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from dynzone.engine import access
from dynzone.engine.access import Action
from dynzone.engine.engine import Engine
from dynzone.logs import security
from dynzone.xfr import messages, packer
from dynzone.xfr.ixfr import chain, condense
from dynzone.zones.serial import serial_gt
from dynzone.zones.snapshot import ZoneSnapshot, key_of

log = logging.getLogger("dynzone.xfr")

# Messages rendered per trip to the worker thread (at most 1 MiB).
_BATCH = 16

TransferReply = int | bytes | AsyncIterator[bytes]


class TransferDoor:
    """Decides who gets a transfer and produces its messages."""

    def __init__(self, engine: Engine, pool: Executor) -> None:
        self.engine = engine
        self.pool = pool  # the transfer thread: journal reads and message rendering

    async def handle(
        self,
        msg: dns.message.Message,
        question: messages.Question,
        key: str | None,
        address: str,
        tcp: bool,
        room: int,
    ) -> TransferReply:
        """An rcode to answer with, the single reply, or the stream of messages.

        ``key`` names the TSIG key that signed the request (already checked);
        ``room`` is the size each message may take.
        """
        qname, qtype, qclass = question
        catalog = self.engine.catalog
        zone = catalog.zones.get(key_of(qname)) if qclass == dns.rdataclass.IN else None
        kind = dns.rdatatype.to_text(dns.rdatatype.RdataType.make(qtype))
        who = f"{address}" + (f" (key {key})" if key else " (unsigned)")
        if zone is None:
            log.info("%s of %s from %s: not a zone we serve; NOTAUTH", kind, qname, who)
            return dns.rcode.NOTAUTH
        zc = self.engine.zone_settings(zone.origin)
        if zc is None or not access.allowed(Action.TRANSFER, zc, address, key):
            security(
                "transfer-refused",
                f"{kind} of {qname} from {who}: not in the zone's allow_transfer",
                client=address,
            )
            return dns.rcode.REFUSED
        flags = messages.reply_flags(msg.flags)
        if qtype == dns.rdatatype.AXFR:
            if not tcp:
                return dns.rcode.FORMERR  # RFC 5936 §4.2: AXFR is TCP only
            log.info(
                "AXFR of %s serial %d (%d records) to %s",
                qname,
                zone.serial,
                zone.record_count,
                who,
            )
            return self._stream(messages.axfr_sets(zone), msg.id, flags, question, room)
        client = _client_serial(msg, zone)
        if client is None:
            return dns.rcode.FORMERR  # RFC 1995 §3: the query carries the client's SOA
        if client == zone.serial or serial_gt(client, zone.serial):
            log.info(
                "IXFR of %s from %s: its serial %d is not behind ours (%d); SOA only",
                qname,
                who,
                client,
                zone.serial,
            )
            return _soa_only(zone, msg.id, flags, question, room)
        loop = asyncio.get_running_loop()
        entries = await loop.run_in_executor(
            self.pool, self.engine.journal.since, zone.origin, client
        )
        path = chain(entries, client, zone.serial)
        if path is None:
            log.info(
                "IXFR of %s from %s: the journal does not reach serial %d;"
                " sending the whole zone, serial %d",
                qname,
                who,
                client,
                zone.serial,
            )
            sets = messages.axfr_sets(zone)
        else:
            diff = condense(path)
            log.info(
                "IXFR of %s to %s: serial %d -> %d, %d changes condensed to -%d +%d records",
                qname,
                who,
                client,
                zone.serial,
                len(path),
                len(diff.removed),
                len(diff.added),
            )
            sets = messages.ixfr_sets(diff, zone.soa)
        if not tcp:
            # RFC 1995 §2: what does not fit in one datagram gets the SOA alone,
            # telling the client to ask again over TCP.
            whole = messages.only_message(sets, msg.id, flags, question, room)
            return whole or _soa_only(zone, msg.id, flags, question, room)
        return self._stream(sets, msg.id, flags, question, room)

    async def _stream(
        self,
        sets: Iterator[packer.WireSet],
        msg_id: int,
        flags: int,
        question: messages.Question,
        room: int,
    ) -> AsyncIterator[bytes]:
        packed = packer.pack(sets, msg_id, flags, question, room)
        loop = asyncio.get_running_loop()
        while True:
            batch = await loop.run_in_executor(self.pool, _take, packed, _BATCH)
            for wire in batch:
                yield wire
            if len(batch) < _BATCH:
                return


def _soa_only(
    zone: ZoneSnapshot, msg_id: int, flags: int, question: messages.Question, room: int
) -> bytes:
    """The reply that holds only the current SOA (always fits: room is at least 400)."""
    wire = messages.only_message([packer.wire_set(zone.soa)], msg_id, flags, question, room)
    assert wire is not None
    return wire


def _take(it: Iterator[bytes], n: int) -> list[bytes]:
    out = []
    for wire in it:
        out.append(wire)
        if len(out) == n:
            break
    return out


def _client_serial(msg: dns.message.Message, zone: ZoneSnapshot) -> int | None:
    """The serial in the SOA the IXFR query carries in its authority section."""
    for rrset in msg.authority:
        if rrset.rdtype == dns.rdatatype.SOA and rrset.name == zone.origin and len(rrset):
            return int(rrset[0].serial)
    return None
