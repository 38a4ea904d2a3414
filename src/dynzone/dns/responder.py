"""Turn one DNS message into the reply bytes: a fast path and a slow path.

Fast path: a plain query (QUERY opcode, one question, nothing else but an
optional OPT, of whose options only a COOKIE is answered) is answered from
the answer cache of the current catalog (engine/answer_cache.py). Only the
header and the
question are read; the reply is the cached flags and counts, the client's ID,
the client's own question bytes (so its letter case is kept, and compression
pointers into it stay valid) and the cached body, with the zone's current SOA
serial patched in where the body carries one. A commit retires only the
cached answers it can change, so the cache stays hot while zones change.

Everything else — EDNS versions above 0, odd flags, errors, malformed input —
takes the slow path, which parses with dnspython and renders a reply from scratch.
UPDATE, NOTIFY, zone transfers and TSIG-signed messages are handed off
(``HANDOFF``) to the asynchronous path in handoff.py: they wait on the store,
need a key, or stream many messages.

Around both paths (``respond``): the whole-reply cache for UDP, the count of
each query for /metrics (dns/stats.py), and response rate limiting of UDP
answers (dns/rrl.py) unless the client returned a valid DNS COOKIE.
"""

from __future__ import annotations

import enum
import itertools
import struct
import time
from typing import Final, cast

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.renderer

from dynzone.dns.answer import Answer, resolve
from dynzone.dns.cookies import COOKIE, Cookies, MalformedCookie, find_cookie, option_bytes
from dynzone.dns.packed_answer import DIRECT_TYPES, TAIL_MARK, answer_section
from dynzone.dns.render import EdnsReply, render
from dynzone.dns.rrl import RateLimiter
from dynzone.dns.stats import QueryStats, Tally
from dynzone.dns.tsig import tsig_start
from dynzone.engine.answer_cache import CachedAnswer, Patches, SplitReply
from dynzone.engine.catalog import Catalog
from dynzone.zones.deps import Deps, rrset_tag, zone_tag
from dynzone.zones.snapshot import Match, ZoneSnapshot, key_of
from dynzone.zones.trusted_rdata import name_from_wire

DEFAULT_PAYLOAD = 1232  # RFC 9715 / DNS Flag Day 2020
PLAIN_UDP_LIMIT = 512  # RFC 1035 §4.2.1, without EDNS
TCP_LIMIT = 65535

_RD_CD_MASK = dns.flags.RD | dns.flags.CD
_TRANSFER = {dns.rdatatype.AXFR, dns.rdatatype.IXFR}
_HANDED_OFF = frozenset({int(dns.opcode.UPDATE), int(dns.opcode.NOTIFY)})
_QR = int(dns.flags.QR)

# Fast-path cache variants: plain, EDNS, EDNS with DO.
_VARIANT = (b"\x00", b"\x01", b"\x02")


class Handoff(enum.Enum):
    """What ``respond`` returns for a message the listener must pass to handoff.py."""

    HANDOFF = "handoff"


HANDOFF: Final = Handoff.HANDOFF


class Responder:
    """Answers queries from whatever catalog is current.

    ``catalog`` is replaced (one reference swap, by the engine) when zones
    change; a query already being answered finishes against the catalog it
    started with.
    """

    def __init__(
        self,
        catalog: Catalog,
        payload: int = DEFAULT_PAYLOAD,
        rrl: RateLimiter | None = None,
        cookies: Cookies | None = None,
    ) -> None:
        self.catalog = catalog
        self.payload = payload
        # UDP answers pass the rate limiter; COOKIE options are answered. Both
        # need the client's packed address, which the listeners pass in.
        self.rrl = rrl
        self.cookies = cookies
        # Answers served from the cache; next() on it is one C call, so the
        # UDP threads and the loop can all count without a lock.
        self.cache_hits = itertools.count()
        self.stats: QueryStats | None = None  # set by the server when /metrics is served
        # Set once the listeners can take HANDOFF; until then UPDATE and NOTIFY
        # are NOTIMP and transfers REFUSED.
        self.hands_off = False

    def use(self, catalog: Catalog) -> None:
        """Answer from ``catalog`` from now on (the engine calls this at every swap)."""
        self.catalog = catalog

    # -- fast path -------------------------------------------------------

    def respond(
        self, data: bytes, tcp: bool = False, client: bytes = b"", tally: Tally | None = None
    ) -> bytes | Handoff | None:
        """Return the reply to ``data``, None when it must be dropped, or HANDOFF.

        ``client`` is the sender's packed address (4 or 16 bytes), for rate
        limiting and cookies; without it neither applies. ``tally``, when
        /metrics is served, is the calling thread's query count (dns/stats.py).
        """
        if not tcp:
            catalog = self.catalog
            k = data[2:]
            whole = catalog.exact.get(k)
            if whole is not None:
                next(self.cache_hits)
                if type(whole) is bytes:
                    reply = data[:2] + whole
                else:
                    # A changing zone's negative answer: its current serial goes in.
                    head, apex, after = cast(SplitReply, whole)
                    reply = b"".join((data[:2], head, catalog.zones[apex].serial_wire, after))
                if tally is not None:
                    # The hottest path: one dict update, the key's hash already known.
                    counts = tally.counts
                    seen = counts.get(k)
                    if seen is None:
                        tally.first(k, reply[3] & 0x0F)
                    else:
                        counts[k] = seen + 1
                rrl = self.rrl
                if rrl is None or not client or rrl.known_exempt.get(client):
                    return reply
                return rrl.judge(client, data, reply, time.monotonic())
        got, proven = self._fresh(data, tcp, client)
        if type(got) is not bytes:
            return got  # HANDOFF, or None for input that gets no reply
        reply = got
        if tally is not None:
            tally.note(data[2:], reply[3] & 0x0F)
        rrl = self.rrl
        if tcp or rrl is None or proven or not client or rrl.known_exempt.get(client):
            return reply
        return rrl.judge(client, data, reply, time.monotonic())

    def _fresh(self, data: bytes, tcp: bool, client: bytes) -> tuple[bytes | Handoff | None, bool]:
        """A reply not in the whole-reply cache, and whether the client proved its
        address with a valid cookie (then rate limiting does not apply)."""
        catalog = self.catalog
        n = len(data)
        # Header: QR=0, opcode QUERY, then QDCOUNT=1, ANCOUNT=0, NSCOUNT=0.
        if n < 17 or data[2] & 0xF8 or data[4:10] != b"\x00\x01\x00\x00\x00\x00":
            return self._slow(data, tcp, client)
        i = 12
        try:
            length = data[i]
            while length:
                if length > 63:
                    return self._slow(data, tcp, client)
                i += length + 1
                length = data[i]
        except IndexError:
            return self._slow(data, tcp, client)
        if i > 266:  # the name is longer than 255 octets: FORMERR on the slow path
            return self._slow(data, tcp, client)
        qend = i + 5
        if i + 2 < n and data[i + 1] == 0 and data[i + 2] in _TRANSFER:
            return self._slow(data, tcp, client)  # AXFR/IXFR: the transfer path
        rest = n - qend
        arcount = data[10:12]
        cookie = None
        if rest == 0 and arcount == b"\x00\x00":
            variant = 0
            limit = PLAIN_UDP_LIMIT
        elif (
            rest >= 11
            and arcount == b"\x00\x01"
            and data[qend : qend + 3] == b"\x00\x00\x29"
            and data[qend + 6] == 0  # EDNS version 0
            # Options (NSID requests...) are ignored, as on the slow path, but a
            # COOKIE (below); they only need to fill the OPT's rdata exactly.
            and (data[qend + 9] << 8 | data[qend + 10]) == rest - 11
        ):
            if rest > 11:
                if not _options_well_framed(data, qend + 11):
                    return self._slow(data, tcp, client)  # FORMERR there, as for any bad OPT
                if self.cookies is not None and client:
                    cookie = find_cookie(data, qend + 11)
            variant = 2 if data[qend + 7] & 0x80 else 1
            limit = max(PLAIN_UDP_LIMIT, min((data[qend + 3] << 8) | data[qend + 4], self.payload))
        else:
            return self._slow(data, tcp, client)
        key = data[12 : i + 1].lower() + data[i + 1 : qend] + _VARIANT[variant]
        hit = catalog.cache.get(key)
        if hit is None:
            again = None
            if (data[i + 1] << 8 | data[i + 2]) in DIRECT_TYPES:
                again = catalog.answers.asked_again(key)
                if not again and cookie is None and not tcp:
                    reply = self._first_direct(catalog, data, key, i - 11, qend, limit)
                    if reply is not None:
                        return reply, False
            hit = self._prepare(catalog, key, i - 11, variant, again)
        else:
            next(self.cache_hits)
        flags0, flags1, counts, body, size, patches = hit
        valid = False
        if cookie is not None:
            assert self.cookies is not None
            try:
                answer, valid = self.cookies.answer(cookie, client, int(time.time()))
            except MalformedCookie:
                return self._slow(data, tcp, client)  # FORMERR
            option = option_bytes(answer)
            size += len(option)
        if size > limit and not tcp:
            return self._slow(data, tcp, client)  # renders the truncated reply for this limit
        if patches:
            body = _patched(catalog, body, patches)
        if cookie is not None:
            # The cached body ends with our OPT record and its empty RDATA.
            body = body[:-2] + len(option).to_bytes(2, "big") + option
        # The client's RD and CD bits, then our counts and body behind its question.
        tail = b"".join(
            (
                bytes((flags0 | (data[2] & 0x01), flags1 | (data[3] & 0x10))),
                counts,
                data[12:qend],
                body,
            )
        )
        if not tcp and cookie is None and catalog.cache.get(key) is hit:
            # Where each serial sits in the bytes after the ID. Not for a cookie:
            # its reply is for one client address and one moment. Not for an
            # answer that was not cached either (put_exact would refuse it).
            shift = qend - 2
            serials = tuple((at + shift, zone) for at, zone in patches)
            catalog.answers.put_exact(catalog, key, hit, data[2:], tail, serials)
        return data[:2] + tail, valid

    def _first_direct(
        self, catalog: Catalog, data: bytes, key: bytes, name_len: int, qend: int, limit: int
    ) -> bytes | None:
        """The whole UDP reply to the first ask of a question answered straight
        from packed bytes (packed_answer.py), or None for ``_prepare`` to make.

        Such a reply is made almost as fast as a cached one is found, so it is
        cached only when its question comes again: a pass over many names,
        each asked once, then costs no cache upkeep (nor memory), nor noting
        what it read. This is ``_prepare`` and the rest of ``_fresh`` written
        out for that one case: it is the whole cost of a cold answer.
        """
        qtype = key[name_len] << 8 | key[name_len + 1]
        direct = answer_section(catalog, key[:name_len], qtype, key[-3] << 8 | key[-2], None)
        if direct is None:
            return None
        zone, section, count = direct
        variant = key[-1]
        tail_key = (zone.key, TAIL_MARK, name_len, len(section) << 2 | key[-1])
        shared = catalog.shapes.get(tail_key)
        if shared is None:
            made = self._direct(catalog, key, name_len, variant, zone, section, count)
            if made is None:
                return None
            flags0, flags1, counts, body, size, _ = made
        else:
            flags0, flags1, tail_counts, tail_body, _, _ = shared[0]
            counts = b"\x00\x01" + count.to_bytes(2, "big") + tail_counts
            body = section + tail_body
            size = qend + len(body)
        if size > limit:
            return None  # the truncated reply is the slow path's
        return b"".join(
            (
                data[:2],
                bytes((flags0 | (data[2] & 0x01), flags1 | (data[3] & 0x10))),
                counts,
                data[12:qend],
                body,
            )
        )

    def _prepare(
        self, catalog: Catalog, key: bytes, name_len: int, variant: int, again: bool | None
    ) -> CachedAnswer:
        """Render the reply for a fast-path cache key, and cache it (one written
        straight from packed bytes only when its question comes again: ``again``
        says whether it did, for a direct type; see ``_first_direct``)."""
        name_key = key[:name_len]
        qtype, qclass = struct.unpack_from("!HH", key, name_len)
        if again is not None:
            deps = Deps() if again else None
            direct = answer_section(catalog, name_key, qtype, qclass, deps)
            if direct is not None:
                entry = self._direct(catalog, key, name_len, variant, *direct)
                if entry is not None:
                    if deps is not None:
                        tags = deps.finish() | {rrset_tag(name_key, qtype)}
                        catalog.answers.put(catalog, key, entry, tags)
                    return entry
        deps = Deps()
        qname = name_from_wire(key)
        edns = None if variant == 0 else EdnsReply(self.payload, do=variant == 2)
        shape = _shape(catalog, name_key, qtype, qclass, deps)
        shape_key = None if shape is None else (*shape, key[name_len:])
        shared = None if shape_key is None else catalog.shapes.get(shape_key)
        if shared is not None and not _mentions(shared[1], name_key):
            entry = shared[0]
            tags = deps.finish() | shared[2]
        else:
            ans = decide(catalog, qname, qtype, qclass, name_key, deps)
            anchors: tuple[bytes, ...] = ()
            if shape_key is not None:
                names = _names_besides(ans, name_key)
                if _mentions(names, name_key):
                    shape_key = None  # this name takes part in its own answer
                else:
                    anchors = (name_key, shape_key[0])
            serials: list[tuple[int, bytes]] = []
            wire = render(qname, qtype, qclass, 0, 0, ans, edns, TCP_LIMIT, anchors, serials)
            qend = 12 + name_len + 4
            patches = tuple((at - qend, zone) for at, zone in serials)
            entry = (wire[2], wire[3], wire[4:12], wire[qend:], len(wire), patches)
            tags = deps.finish()
            if shape_key is not None:
                catalog.answers.put_shape(catalog, shape_key, (entry, names, tags))
        catalog.answers.put(catalog, key, entry, tags)
        return entry

    def _direct(
        self,
        catalog: Catalog,
        key: bytes,
        name_len: int,
        variant: int,
        zone: ZoneSnapshot,
        section: bytes,
        count: int,
    ) -> CachedAnswer | None:
        """The reply whose answer section ``section`` (``count`` records) came
        straight from packed bytes (packed_answer.py), completed with the
        zone's shared tail; None if the tail cannot be shared after all."""
        name_key = key[:name_len]
        qend = 12 + name_len + 4
        tail_key = (zone.key, TAIL_MARK, name_len, len(section) << 2 | key[-1])
        shared = catalog.shapes.get(tail_key)
        if shared is None:
            # Render this one answer the usual way, anchored as shapes are, and
            # keep what follows its answer section.
            qname = name_from_wire(key)
            qtype, qclass = struct.unpack_from("!HH", key, name_len)
            edns = None if variant == 0 else EdnsReply(self.payload, do=variant == 2)
            ans = decide(catalog, qname, qtype, qclass, name_key, Deps())
            serials: list[tuple[int, bytes]] = []
            anchors = (name_key, zone.key)
            wire = render(qname, qtype, qclass, 0, 0, ans, edns, TCP_LIMIT, anchors, serials)
            if serials or wire[6:8] != count.to_bytes(2, "big"):
                return None
            if wire[qend : qend + len(section)] != section:
                return None
            tail = (wire[2], wire[3], wire[8:12], wire[qend + len(section) :], 0, ())
            shared = (tail, frozenset(), frozenset({zone_tag(zone.key)}))
            catalog.answers.put_shape(catalog, tail_key, shared)
        flags0, flags1, tail_counts, tail_body, _, _ = shared[0]
        body = section + tail_body
        counts = b"\x00\x01" + count.to_bytes(2, "big") + tail_counts
        return flags0, flags1, counts, body, qend + len(body), ()

    # -- slow path -------------------------------------------------------

    def _slow(
        self, data: bytes, tcp: bool, client: bytes = b""
    ) -> tuple[bytes | Handoff | None, bool]:
        """The reply, and whether the client proved its address with a valid cookie."""
        if len(data) < 12:
            return None, False  # not even a header to reply to
        msg_id, flags, qdcount = struct.unpack_from("!HHH", data)
        if flags & _QR:
            return None, False  # a response: answering could start a packet loop
        if self.hands_off and (((flags >> 11) & 0x0F) in _HANDED_OFF or _signed(data)):
            return HANDOFF, False  # checked on plain ints: enum operations cost more
        opcode = dns.opcode.from_flags(flags)
        echo = flags & _RD_CD_MASK
        question = _question(data) if qdcount == 1 else None
        if self.hands_off and question is not None and question[1] in _TRANSFER:
            return HANDOFF, False
        if opcode != dns.opcode.QUERY:
            return _error(msg_id, echo, opcode, dns.rcode.NOTIMP, question), False
        if question is None:
            return _error(msg_id, echo, opcode, dns.rcode.FORMERR, None), False
        try:
            msg = dns.message.from_wire(data, keyring=False, ignore_trailing=True)
        except (dns.exception.DNSException, ValueError, struct.error):
            return _error(msg_id, echo, opcode, dns.rcode.FORMERR, question), False
        try:
            return self._answer(msg, question, tcp, 0, client)
        except MalformedCookie:
            return _error(msg_id, echo, opcode, dns.rcode.FORMERR, question), False

    def answer(
        self,
        msg: dns.message.Message,
        question: tuple[dns.name.Name, int, int],
        tcp: bool,
        reserve: int = 0,
    ) -> bytes:
        """Render the reply to the parsed query ``msg``, leaving ``reserve`` bytes free."""
        return self._answer(msg, question, tcp, reserve, b"")[0]

    def _answer(
        self,
        msg: dns.message.Message,
        question: tuple[dns.name.Name, int, int],
        tcp: bool,
        reserve: int,
        client: bytes,
    ) -> tuple[bytes, bool]:
        qname, qtype, qclass = question
        msg_id, echo = msg.id, msg.flags & _RD_CD_MASK
        edns: EdnsReply | None = None
        limit = TCP_LIMIT if tcp else PLAIN_UDP_LIMIT
        proven = False
        if msg.edns >= 0:
            options = b""
            if self.cookies is not None and client:
                sent = next((o for o in msg.options if o.otype == COOKIE), None)
                if sent is not None:
                    answer, proven = self.cookies.answer(
                        sent.to_wire() or b"", client, int(time.time())
                    )
                    options = option_bytes(answer)
            edns = EdnsReply(self.payload, bool(msg.ednsflags & dns.flags.DO), options)
            if not tcp:
                limit = max(PLAIN_UDP_LIMIT, min(msg.payload, self.payload))
            if msg.edns > 0:
                # RFC 6891 §6.1.3: we speak version 0 only.
                ans = Answer(rcode=dns.rcode.BADVERS, aa=False)
                wire = render(qname, qtype, qclass, msg_id, echo, ans, edns, limit - reserve)
                return wire, proven
        ans = decide(self.catalog, qname, qtype, qclass)
        return render(qname, qtype, qclass, msg_id, echo, ans, edns, limit - reserve), proven


def _options_well_framed(data: bytes, at: int) -> bool:
    """Whether the EDNS options from ``at`` to the end are whole (code, length, data)."""
    end = len(data)
    while at < end:
        if at + 4 > end:
            return False
        at += 4 + (data[at + 2] << 8 | data[at + 3])
    return at == end


def _shape(
    catalog: Catalog, name_key: bytes, qtype: int, qclass: int, deps: Deps
) -> tuple[bytes, bytes, int] | None:
    """What an NXDOMAIN or wildcard answer depends on besides the name's length.

    Such an answer is the same for every name that ends at the same wildcard
    (or anywhere in the zone, for NXDOMAIN): the query name appears only as
    the owner of the synthesised records. Rendered with compression anchored
    at the name and the zone apex alone, its body can be shared by all names
    of one length, so a flood of random names costs a lookup, not a render.
    Returns (zone key, wildcard or zone key, name length), or None.

    The sharing holds only while the query name plays no other part in the
    answer: ``_names_besides`` and ``_mentions`` check that for both the name
    that rendered the body and every name that reuses it.
    """
    if qclass != dns.rdataclass.IN or qtype in _TRANSFER:
        return None
    zone = catalog.find_zone(name_key)
    if zone is None or (qtype == dns.rdatatype.DS and name_key == zone.key):
        return None
    look = zone.find(name_key, qtype, deps)
    if look.match is Match.NXDOMAIN:
        return zone.key, zone.key, len(name_key)
    if look.match is Match.WILDCARD:
        return zone.key, look.owner, len(name_key)
    return None


# Rdata fields that hold names. An answer depends on the query name through
# compression (RFC 1035 types), chains (CNAME/DNAME targets) and additional
# data (NS/MX/SRV/KX/RT targets), all covered here; RP's "mbox" and "txt" and
# NAPTR's "replacement" are names too, listed to be thorough.
_NAME_FIELDS = (
    "target",
    "exchange",
    "exchanger",
    "mname",
    "rname",
    "rmailbx",
    "emailbx",
    "replacement",
    "mbox",
    "txt",
)


def _names_besides(ans: Answer, owner: bytes) -> frozenset[bytes]:
    """Keys of every name in ``ans`` except the synthesised owner ``owner``."""
    names = set()
    for rrset in (*ans.answer, *ans.authority, *ans.additional):
        key = key_of(rrset.name)
        if key != owner:
            names.add(key)
        for rd in rrset:
            for field in _NAME_FIELDS:
                value = getattr(rd, field, None)
                if isinstance(value, dns.name.Name):
                    names.add(key_of(value))
    return frozenset(names)


def _mentions(names: frozenset[bytes], name_key: bytes) -> bool:
    """Whether any of ``names`` is ``name_key`` or below it (conservatively)."""
    return any(n.endswith(name_key) for n in names)


def _patched(catalog: Catalog, data: bytes, patches: Patches) -> bytes:
    """``data`` with the current serial of each zone written where ``patches`` say."""
    zones = catalog.zones
    for at, zone in patches:
        data = data[:at] + zones[zone].serial_wire + data[at + 4 :]
    return data


def decide(
    catalog: Catalog,
    qname: dns.name.Name,
    qtype: int,
    qclass: int,
    key: bytes | None = None,
    deps: Deps | None = None,
) -> Answer:
    """What a standard query gets, before any wire concerns (``deps``: see resolve)."""
    if qtype in _TRANSFER:
        return Answer(rcode=dns.rcode.REFUSED, aa=False)  # no transfer path (xfr/door.py)
    if qclass == dns.rdataclass.IN:
        return resolve(catalog, qname, qtype, key, deps)
    if qclass == dns.rdataclass.ANY:
        # QCLASS * (RFC 1035 §3.2.5): we hold class IN only, so answer that, but
        # without AA, as NSD does: we cannot vouch for classes we do not hold.
        ans = resolve(catalog, qname, qtype, key, deps)
        ans.aa = False
        if ans.optional_authority:
            ans.authority, ans.additional = [], []
        return ans
    return Answer(rcode=dns.rcode.REFUSED, aa=False)  # CH, HS, ...: not served


def _signed(data: bytes) -> bool:
    """Whether ``data``'s last record is a TSIG (read from the record headers only)."""
    if data[10:12] == b"\x00\x00":
        return False
    try:
        start = tsig_start(data)
        _, used = dns.name.from_wire(data, start)  # the owner; the type follows
        (rdtype,) = struct.unpack_from("!H", data, start + used)
    except (dns.exception.DNSException, ValueError, struct.error):
        return False  # malformed: the slow path answers FORMERR
    return rdtype == dns.rdatatype.TSIG


def question_of(data: bytes) -> tuple[dns.name.Name, int, int] | None:
    """The single question of a message as the client wrote it, or None."""
    return _question(data) if data[4:6] == b"\x00\x01" else None


def error_reply(data: bytes, rcode: int) -> bytes:
    """A reply to the request ``data`` saying only ``rcode``."""
    msg_id, flags = struct.unpack_from("!HH", data)
    opcode = dns.opcode.from_flags(flags)
    return _error(msg_id, flags & _RD_CD_MASK, opcode, rcode, question_of(data))


def _question(data: bytes) -> tuple[dns.name.Name, int, int] | None:
    """The single question of a message, or None if it cannot be read."""
    try:
        qname, used = dns.name.from_wire(data, 12)
        qtype, qclass = struct.unpack_from("!HH", data, 12 + used)
    except (dns.exception.DNSException, struct.error, IndexError):
        return None
    return qname, qtype, qclass


def _error(
    msg_id: int,
    echo: int,
    opcode: int,
    rcode: int,
    question: tuple[dns.name.Name, int, int] | None,
) -> bytes:
    """A reply that says only ``rcode`` (and echoes the question if readable)."""
    flags = (
        dns.flags.QR | echo | dns.opcode.to_flags(dns.opcode.Opcode.make(opcode)) | (rcode & 0xF)
    )
    if question is None:
        return struct.pack("!HHHHHH", msg_id, flags, 0, 0, 0, 0)
    qname, qtype, qclass = question
    r = dns.renderer.Renderer(msg_id, flags, TCP_LIMIT)
    r.add_question(qname, qtype, qclass)
    r.write_header()
    return r.get_wire()
