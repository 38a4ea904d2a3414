"""The quick zone-file reader gives exactly what dnspython's reader gives, or gives up."""

from __future__ import annotations

import random

import dns.name
import pytest

from dynzone.zones.quick_zonefile import quick_parse
from dynzone.zones.zonefile import ParsedZone, _read

ORIGIN = dns.name.from_text("example.com")


def by_dnspython(text: str) -> ParsedZone:
    return _read(text, "zone.txt", ORIGIN)


def flat(parsed: ParsedZone) -> list[tuple[object, ...]]:
    """Everything read, in order: the rows the store gets, where each was written,
    and the text forms of the records they make, which must agree too."""
    zone = parsed.rows
    out: list[tuple[object, ...]] = []
    for i, (row, rec) in enumerate(zip(zone.rows, zone.records(), strict=True)):
        out.append((row, zone.where(i), rec.name.to_text(), rec.rdata.to_text()))
    out += [("outside", n.to_text(), w) for n, w in parsed.outside]
    return out


def varied_zone(lines: int, seed: int, ttl_first: bool = True) -> str:
    """Every form the quick reader takes, and some it hands to dnspython."""
    rng = random.Random(seed)
    out = ["; a varied zone", "$TTL 3600" if ttl_first else ""]
    out += [
        "@\tIN\tSOA\tns1.example.com. hostmaster (  ; the SOA over several lines",
        "        2026120101 ; serial",
        "        7200 900 1209600 300 )",
        "@ NS ns1",
        "@ NS ns2.example.com.",
    ]
    for i in range(lines):
        kind = rng.randrange(24)
        owner = rng.choice(
            [f"h{i}", f"H{i}.Sub", f"h{i}.example.com.", "", "@", f"*.w{i}", f"_sip._tcp.s{i}"]
        )
        ttl = rng.choice(["", "", "60", "1h", "2d3h", "0"])
        cls = rng.choice(["", "", "IN", "in"])
        head = f"{owner}\t{ttl} {cls}" if rng.random() < 0.7 else f"{owner} {cls} {ttl}"
        if kind == 0:
            out.append(f"$ORIGIN sub{i}.example.com.")
        elif kind == 1:
            out.append("$ORIGIN example.com.")
        elif kind == 2:
            out.append(f"$TTL {rng.choice(['300', '5m', '86400'])}")
        elif kind == 3:
            out.append(f"other{i}.test. A 192.0.2.{i % 256}")  # outside the zone
        elif kind == 4:
            out.append(f"{head} AAAA 2001:db8::{i:x}")
        elif kind == 5:
            out.append(f"{head} AAAA 2001:DB8:0:0:0:0:0:{i % 65536:x}")
        elif kind == 6:
            out.append(f'{head} TXT "v=spf1 -all" "second; not a comment" bare{i}')
        elif kind == 7:
            out.append(f'{head} TXT word{i} "quoted (parenthesis)"  ; a comment')
        elif kind == 8:
            out.append(f"{head} MX {i % 100} mail{i}")
        elif kind == 9:
            out.append(f"{head} MX 10 mail.example.net.")
        elif kind == 10:
            out.append(f"c{i} {ttl} CNAME h{i}")
        elif kind == 11:
            out.append(f"{head} SRV 10 {i % 50} 5060 sip{i}.example.com.")
        elif kind == 12:
            out.append(f"{head} PTR host{i}")
        elif kind == 13:
            out.append(f'{head} CAA 0 issue "ca.example.net"')
        elif kind == 14:
            out.append(f"{head} SSHFP 1 1 {i:040x}")
        elif kind == 15:
            out.append(f'{head} HINFO "cpu {i}" "os"')
        elif kind == 16:
            out.append(f"d{i} NS ns.d{i}")
        elif kind == 17:
            out.append("")
        elif kind == 18:
            out.append("   ; only a comment")
        elif kind == 19:
            out.append(f"{head} TYPE65280 \\# 2 abcd".replace("\\# 2 abcd", "\\# 0"))
        else:
            out.append(f"{head} A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}  ; host {i}")
    return "\r\n".join(out) + "\n" if seed % 2 else "\n".join(out) + "\n"


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_large_varied_file_reads_as_dnspython_reads_it(seed: int) -> None:
    # TYPE65280 \# lines carry a backslash: keep them out to stay plain.
    text = "\n".join(line for line in varied_zone(20_000, seed).split("\n") if "\\#" not in line)
    quick = quick_parse(text, "zone.txt", ORIGIN)
    assert quick is not None, "the quick reader must take this file"
    reference = by_dnspython(text)
    assert len(reference.rows) > 12_000
    assert flat(quick) == flat(reference)


def test_without_ttl_directives_the_soa_and_the_last_ttl_decide_as_in_dnspython() -> None:
    # RFC 2308 rules without $TTL: the SOA's MINIMUM is the default, but a
    # TTL written on an earlier record wins over it.
    text = "\n".join(
        line
        for line in varied_zone(3_000, 5, False).split("\n")
        if "\\" not in line and not line.startswith("$TTL")
    )
    quick = quick_parse(text, "zone.txt", ORIGIN)
    assert quick is not None
    assert flat(quick) == flat(by_dnspython(text))


@pytest.mark.parametrize(
    "text",
    [
        '$TTL 60\n@ SOA a b 1 2 3 4 5\n@ NS ns\nx TXT "a\\"b"\n',  # an escape
        "$TTL 60\n@ SOA a b 1 2 3 4 5\n$INCLUDE other.zone\n",
        "$TTL 60\n@ SOA a b 1 2 3 4 5\n$GENERATE 1-3 h$ A 10.0.0.$\n",
        '$TTL 60\n@ SOA a b 1 2 3 4 5\nx TXT ( "a"\n "b" )\n',  # quotes in parentheses
        "$TTL 60\n@ SOA a b 1 2 3 4 5\nx A 300.1.1.1\n",  # an error: dnspython's to say
        "$TTL 60\n@ SOA a b 1 2 3 4 5\nx CH A 10.0.0.1\n",
        "$TTL 60\n@ SOA a b 1 2 3 4 5\nx A 10.0.0.1 10.0.0.2\n",
        "$TTL 60\n@ SOA a b 1 2 3 4 5\nx TXT\n",
        "$TTL 60\n@ SOA a b 1 2 3 4 5\ncafé A 10.0.0.1\n",
        "$TTL 60\n@ SOA a b ( 1 2 3 4 5\n",  # unbalanced
        "$TTL 60\n@ SOA a b 4294967296 2 3 4 5\n",  # a serial too large: dnspython says
        "$TTL 60\n@ SOA a b 1 2 3 4\n",  # a timer missing
        "@ A 10.0.0.1\n",  # no TTL anywhere
    ],
)
def test_anything_less_than_plain_is_left_to_dnspython(text: str) -> None:
    assert quick_parse(text, "zone.txt", ORIGIN) is None


@pytest.mark.parametrize(
    "text",
    [
        "$TTL 60\n@ SOA a b 1 2 3 4 5\nx AAAA ::ffff:10.0.0.1\n",  # dnspython reads this one
        "$TTL 60\n@ SOA a b 1 2 3 4 5\nx 1w2d IN TXT a b c\n",
        "$TTL 60\n@ SOA a b 1 2 3 4 5\nx IN 30 MX 0 .\n",
        "$ORIGIN other.example.com.\n$TTL 60\n@ SOA a b 1 2 3 4 5\nx A 10.0.0.1\n",
        "$TTL 60\n@ SOA a b 1 2 3 4 5\n\tA 10.0.0.9\nx A 10.0.0.1\n\tAAAA ::1\n",
        # SOA timers with units, and the largest values, as dnspython reads them
        "$TTL 60\n@ SOA a.test. b 1 1h 30m 2w 1d\n",
        "$TTL 60\n@ SOA a b 4294967295 4294967295 0 0 4294967295\n",
        "$TTL 60\n@ SOA A.Example.COM. B ( 7\n 2 ; refresh\n 3 4 5 )\n",
    ],
)
def test_small_files_read_alike(text: str) -> None:
    quick = quick_parse(text, "zone.txt", ORIGIN)
    assert quick is not None
    assert flat(quick) == flat(by_dnspython(text))
