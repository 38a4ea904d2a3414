"""Send the corpus to several servers and compare their normalised replies.

A reply is normalised to: rcode, AA, TC, whether EDNS and DO came back, and the
answer, authority and additional sections as sets of RRsets (names and rdata
lower-cased, because servers may copy the client's letter case via
compression). Order inside sections does not matter.
"""

from __future__ import annotations

from collections.abc import Iterable

import dns.flags
import dns.message
import dns.query
import dns.rdatatype
import dns.rrset

from tests.e2e.corpus import Query

RRsetKey = tuple[str, int, int, frozenset[str]]
Normal = tuple[
    int, bool, bool, int, bool, frozenset[RRsetKey], frozenset[RRsetKey], frozenset[RRsetKey]
]


def make_message(q: Query) -> dns.message.Message:
    if q.edns == "none":
        msg = dns.message.make_query(q.qname, q.qtype, use_edns=False)
    else:
        msg = dns.message.make_query(
            q.qname, q.qtype, use_edns=0, payload=1232, want_dnssec=q.edns == "do"
        )
    msg.flags = 0  # an authoritative server is asked without RD
    return msg


def ask(q: Query, port: int, host: str = "127.0.0.1", tcp: bool = False) -> dns.message.Message:
    msg = make_message(q)
    if tcp:
        return dns.query.tcp(msg, host, port=port, timeout=3)
    return dns.query.udp(msg, host, port=port, timeout=3, raise_on_truncation=False)


def _section(rrsets: Iterable[dns.rrset.RRset]) -> frozenset[RRsetKey]:
    return frozenset(
        (r.name.to_text().lower(), r.rdtype, r.ttl, frozenset(rd.to_text().lower() for rd in r))
        for r in rrsets
    )


def normalise(r: dns.message.Message) -> Normal:
    return (
        r.rcode(),
        bool(r.flags & dns.flags.AA),
        bool(r.flags & dns.flags.TC),
        r.edns,
        bool(r.ednsflags & dns.flags.DO),
        _section(r.answer),
        _section(r.authority),
        _section(r.additional),
    )


def describe(n: Normal) -> str:
    rcode, aa, tc, edns, do, an, ns, ar = n

    def sec(s: frozenset[RRsetKey]) -> str:
        return (
            "; ".join(
                sorted(
                    f"{name} {dns.rdatatype.to_text(t)} {ttl} {sorted(rd)}"
                    for name, t, ttl, rd in s
                )
            )
            or "-"
        )

    return (
        f"rcode={dns.rcode.to_text(rcode)} aa={aa} tc={tc} edns={edns} do={do}\n"
        f"      answer: {sec(an)}\n      authority: {sec(ns)}\n      additional: {sec(ar)}"
    )


def classify_split(nsd: Normal, knot: Normal) -> str:
    """Name the documented reason NSD and Knot answer a query differently.

    Each reason returned here has a section in tests/e2e/DISAGREEMENTS.md;
    "unexplained" means a split nobody has documented yet.
    """
    n_rcode, n_aa, n_tc, _, _, n_an, n_ns, n_ar = nsd
    k_rcode, k_aa, k_tc, _, _, k_an, k_ns, k_ar = knot
    n_types = {t for _, t, _, _ in n_an}
    k_types = {t for _, t, _, _ in k_an}
    if (n_rcode, n_aa, n_tc) == (k_rcode, k_aa, k_tc) and n_an == k_an:
        ns_types = {t for _, t, _, _ in n_ns} - {t for _, t, _, _ in k_ns}
        if n_ns != k_ns and ns_types <= {dns.rdatatype.NS} and not k_ns - n_ns:
            return "authority-ns-in-positive-answers"
        if n_ns == k_ns and n_ar != k_ar:
            return "additional-section-contents"
    if len(n_an) == 1 and len(k_an) == 1 and n_types != k_types and not n_tc and not k_tc:
        return "any-picks-one-rrset"
    cname_or_dname = {dns.rdatatype.CNAME, dns.rdatatype.DNAME}
    if k_an and k_types <= cname_or_dname and k_an <= n_an:
        # Knot stopped at the end of its zone; NSD went on into the next one.
        return "chain-into-another-served-zone"
    return "unexplained"
