"""Render an ``Answer`` to wire format, truncating the way NSD does.

The answer section and a required authority section must fit whole, or the
reply carries TC and no records at all (the client retries over TCP). The NS
RRset of a positive answer and additional data are optional: what does not fit
is left out without TC (RFC 2181 §9).
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.name
import dns.rcode
import dns.renderer

from dynzone.dns.answer import Answer

OPT_SIZE = 11  # an OPT RR without options


@dataclass(frozen=True, slots=True)
class EdnsReply:
    """The OPT record we send back: our payload size and the echoed DO bit."""

    payload: int
    do: bool = False


def render(
    qname: dns.name.Name,
    qtype: int,
    qclass: int,
    msg_id: int,
    flags: int,
    ans: Answer,
    edns: EdnsReply | None,
    max_size: int,
) -> bytes:
    """Return the reply's wire bytes, at most ``max_size`` long."""
    rflags, ext = dns.rcode.to_flags(ans.rcode)
    flags |= dns.flags.QR | rflags
    if ans.aa:
        flags |= dns.flags.AA
    r = _start(msg_id, flags, qname, qtype, qclass, max_size, edns)
    try:
        for rrset in ans.answer:
            r.add_rrset(dns.renderer.ANSWER, rrset, want_shuffle=False)
        authority_fits = True
        for rrset in ans.authority:
            try:
                r.add_rrset(dns.renderer.AUTHORITY, rrset, want_shuffle=False)
            except dns.exception.TooBig:
                if not ans.optional_authority:
                    raise
                authority_fits = False
                break
    except dns.exception.TooBig:
        r = _start(msg_id, flags | dns.flags.TC, qname, qtype, qclass, max_size, edns)
    else:
        if authority_fits:
            for rrset in ans.additional:
                try:
                    r.add_rrset(dns.renderer.ADDITIONAL, rrset, want_shuffle=False)
                except dns.exception.TooBig:
                    break
    if edns is not None:
        r.release_reserved()
        ednsflags = ext | (dns.flags.DO if edns.do else 0)
        r.add_edns(0, ednsflags, edns.payload)
    r.write_header()
    return r.get_wire()


def _start(
    msg_id: int,
    flags: int,
    qname: dns.name.Name,
    qtype: int,
    qclass: int,
    max_size: int,
    edns: EdnsReply | None,
) -> dns.renderer.Renderer:
    r = dns.renderer.Renderer(msg_id, flags, max_size)
    r.add_question(qname, qtype, qclass)
    if edns is not None:
        r.reserve(OPT_SIZE)
    return r
