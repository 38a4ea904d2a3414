"""Replies written from the request's bytes are exactly what dnspython renders."""

from __future__ import annotations

import dns.edns
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.update
import pytest

from dynzone.dns import signed


def requests() -> list[dns.message.Message]:
    out: list[dns.message.Message] = []
    for edns in (-1, 0):
        for flags in (0, dns.flags.RD, dns.flags.RD | dns.flags.CD):
            q = dns.message.make_query("WwW.Example.COM", "A", use_edns=edns, payload=4000)
            q.flags = flags
            out.append(q)
            n = dns.message.make_query("example.com", "SOA", use_edns=edns, want_dnssec=True)
            n.set_opcode(dns.opcode.NOTIFY)
            out.append(n)
        u = dns.update.UpdateMessage("Dyn.Example.com")
        u.use_edns(edns)
        u.replace("host", 60, "A", "192.0.2.1")
        out.append(u)
    padded = dns.message.make_query("example.com", "A", use_edns=0, options=[])
    padded.use_edns(0, 0, 1232, options=[dns.edns.GenericOption(dns.edns.OptionType.PADDING, b"")])
    out.append(padded)
    return out


@pytest.mark.parametrize("index", range(len(requests())))
@pytest.mark.parametrize("rcode", [dns.rcode.NOERROR, dns.rcode.REFUSED, dns.rcode.NOTAUTH])
@pytest.mark.parametrize("aa", [False, True])
def test_reply_bytes_equal_make_response(index: int, rcode: int, aa: bool) -> None:
    data = requests()[index].to_wire()
    msg = dns.message.from_wire(data)
    expected = dns.message.make_response(msg, our_payload=1232)
    expected.set_rcode(dns.rcode.Rcode.make(rcode))
    if aa:
        expected.flags |= dns.flags.AA
    assert signed.reply(data, msg, rcode, 1232, aa) == expected.to_wire()
