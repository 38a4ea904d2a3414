"""What is derived from a dnspython name, remembered per name object.

dnspython renders a name's wire form or text anew on every call, and one
request asks for the same name objects' several times over (the owner of
an UPDATE record is checked against the zone, the grants, the snapshot and
the store): each form is remembered for the last few thousand names
(memo.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import dns.name

from dynzone.memo import ByObject

# A length byte (a label's, a character-string's), by length: making it anew
# costs as much again.
LENGTH_BYTE = [bytes((n,)) for n in range(256)]


def _labels_wire(labels: Iterable[bytes]) -> bytes:
    """Labels (the root's last) as uncompressed wire: each with its length."""
    return b"".join([LENGTH_BYTE[len(label)] + label for label in labels])


def _wire(name: dns.name.Name) -> bytes:
    labels = name.labels
    if labels and not labels[-1]:
        # Absolute: dnspython's to_wire makes a name object for every suffix on
        # the way (for compression).
        return _labels_wire(labels)
    wire = name.to_wire()
    assert wire is not None
    return wire


def key_from_text(text: str) -> bytes:
    """The index key of the absolute name whose lower-cased text is ``text``
    (as the store keeps owners). Text without escapes is split directly."""
    if "\\" in text or not text.endswith(".") or text == ".":
        return key_from(dns.name.from_text(text))
    return _labels_wire(text.encode().split(b"."))


_PLAIN_NAME = re.compile(rb"(?:[A-Za-z0-9_*-]+\.)+\Z")


def plain_text(labels: tuple[bytes, ...]) -> str | None:
    """The text of the absolute name with ``labels`` when none of them needs an
    escape (what ``to_text()`` gives then); None otherwise."""
    if len(labels) < 2 or labels[-1]:
        return None
    joined = b".".join(labels)
    # One match for the whole name; a label with a dot of its own would read
    # as two here, so the dots are counted as well.
    if joined.count(b".") != len(labels) - 1 or not _PLAIN_NAME.match(joined):
        return None
    return joined.decode()


# An absolute name's wire form, uncompressed, case kept.
wire_of: ByObject[dns.name.Name, bytes] = ByObject(_wire)


def name_wire(name: dns.name.Name) -> bytes:
    """An absolute name's uncompressed wire form, case kept (not remembered)."""
    return _wire(name)


def key_from(name: dns.name.Name) -> bytes:
    """``key_of`` worked out afresh, for a pass over many names each seen once
    (building a snapshot): remembering those would only churn the memo."""
    return _wire(name).lower()


# The index key of an absolute name: its wire form, lower-cased.
key_of: ByObject[dns.name.Name, bytes] = ByObject(lambda name: wire_of(name).lower())


def name_text(name: dns.name.Name) -> str:
    """The name's text as dnspython writes it (case kept), without dnspython's
    per-character escaping when no label needs any (not remembered)."""
    return plain_text(name.labels) or name.to_text()


# The name's text, as dnspython writes it (case kept).
text_of: ByObject[dns.name.Name, str] = ByObject(name_text)


def lower_text(name: dns.name.Name) -> str:
    """The name's text, lower-cased (as grants compare names)."""
    return text_of(name).lower()


def key_within(key: bytes, zone_key: bytes) -> bool:
    """Whether the name with ``key`` is ``zone_key``'s name or below it (both keys
    from ``key_of``): a label boundary of ``key`` where ``zone_key`` starts."""
    if not key.endswith(zone_key):
        return False
    start = len(key) - len(zone_key)
    at = 0
    while at < start:
        at += key[at] + 1
    return at == start
