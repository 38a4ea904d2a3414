"""What is derived from a dnspython name, remembered per name object.

dnspython renders a name's wire form or text anew on every call, and one
request asks for the same name objects' several times over (the owner of
an UPDATE record is checked against the zone, the grants, the snapshot and
the store). These memos keep the last few thousand results by object: the
object is kept alive with its entry, so an id is never taken for another
object's, and the whole memo is dropped when full (a load of a million
names pays one dict store per name, nothing more).
"""

from __future__ import annotations

import dns.name

_KEPT = 4096
_wires: dict[int, tuple[dns.name.Name, bytes]] = {}
_keys: dict[int, tuple[dns.name.Name, bytes]] = {}
_texts: dict[int, tuple[dns.name.Name, str]] = {}


def wire_of(name: dns.name.Name) -> bytes:
    """An absolute name's wire form, uncompressed, case kept."""
    found = _wires.get(id(name))
    if found is not None and found[0] is name:
        return found[1]
    wire = name.to_wire()
    assert wire is not None
    if len(_wires) >= _KEPT:
        _wires.clear()
    _wires[id(name)] = (name, wire)
    return wire


def key_of(name: dns.name.Name) -> bytes:
    """The index key of an absolute name: its wire form, lower-cased."""
    found = _keys.get(id(name))
    if found is not None and found[0] is name:
        return found[1]
    key = wire_of(name).lower()
    if len(_keys) >= _KEPT:
        _keys.clear()
    _keys[id(name)] = (name, key)
    return key


def text_of(name: dns.name.Name) -> str:
    """The name's text, as dnspython writes it (case kept)."""
    found = _texts.get(id(name))
    if found is not None and found[0] is name:
        return found[1]
    text = name.to_text()
    if len(_texts) >= _KEPT:
        _texts.clear()
    _texts[id(name)] = (name, text)
    return text


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
