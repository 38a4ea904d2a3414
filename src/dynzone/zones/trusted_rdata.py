"""dnspython rdata and names built from fields already known to be valid, without
its checks.

dnspython's constructors validate every field (an address is parsed back
from text, each SOA field range-checked) through its immutable-object
machinery: about 5 µs an rdata. The UPDATE path makes one address record
from four or sixteen bytes off the wire and one SOA with a new serial per
change, where nothing can be invalid; setting the slots directly costs a
tenth of that. Loading a zone from the store makes every record and
owner name again from what dynzone itself wrote there: the same applies,
and there each saved µs counts once per record. The objects are ordinary
dnspython objects: equal, hashing and rendering like constructed ones
(tests/zones/test_trusted_rdata.py).
If a dnspython release lays its classes out otherwise, the constructors
are used.
"""

from __future__ import annotations

import re
import socket

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.SOA
import dns.rdtypes.IN.A
import dns.rdtypes.IN.AAAA

from dynzone.zones.wire import rdata_wire

_IN = dns.rdataclass.IN
_A = dns.rdatatype.A
_AAAA = dns.rdatatype.AAAA
_SOA_CLS = dns.rdtypes.ANY.SOA.SOA
_A_CLS = dns.rdtypes.IN.A.A
_AAAA_CLS = dns.rdtypes.IN.AAAA.AAAA
_SOA_FIELDS = ("mname", "rname", "refresh", "retry", "expire", "minimum")
_new = object.__new__
_set = object.__setattr__


def _laid_out_as_expected() -> bool:
    return (
        list(_A_CLS.__slots__) == ["address"]
        and list(_AAAA_CLS.__slots__) == ["address"]
        and sorted(_SOA_CLS.__slots__) == sorted((*_SOA_FIELDS, "serial"))
    )


_DIRECT = _laid_out_as_expected()
_NAME_CLS = dns.name.Name
# dnspython wraps Name in an immutable subclass; the slot is the wrapped class's.
_NAME_DIRECT = [getattr(c, "__slots__", None) for c in _NAME_CLS.__mro__].count(["labels"]) == 1


def _address(cls: type[dns.rdata.Rdata], rdtype: int, text: str) -> dns.rdata.Rdata:
    rd = _new(cls)
    _set(rd, "rdclass", _IN)
    _set(rd, "rdtype", rdtype)
    _set(rd, "rdcomment", None)
    _set(rd, "address", text)
    return rd


def a_record(wire: bytes, remember: bool = True) -> dns.rdata.Rdata:
    """The A rdata whose wire form is ``wire`` (4 bytes); its wire is remembered
    unless ``remember`` is false (a bulk load would only churn the memo)."""
    text = socket.inet_ntoa(wire)
    rd = _address(_A_CLS, _A, text) if _DIRECT else _A_CLS(_IN, _A, text)
    if remember:
        rdata_wire.remember(rd, wire)
    return rd


def a_record_from_text(text: str) -> dns.rdata.Rdata:
    """The A rdata of ``text``, a dotted quad already checked to be in the form
    dnspython keeps (four decimal octets, no leading zeros)."""
    return _address(_A_CLS, _A, text) if _DIRECT else _A_CLS(_IN, _A, text)


def aaaa_record(wire: bytes, remember: bool = True) -> dns.rdata.Rdata:
    """The AAAA rdata whose wire form is ``wire`` (16 bytes); as ``a_record``."""
    text = socket.inet_ntop(socket.AF_INET6, wire)
    rd = _address(_AAAA_CLS, _AAAA, text) if _DIRECT else _AAAA_CLS(_IN, _AAAA, text)
    if remember:
        rdata_wire.remember(rd, wire)
    return rd


_TYPES: dict[int, dns.rdatatype.RdataType] = {}  # RdataType.make costs an enum call


def type_enum(rdtype: int) -> dns.rdatatype.RdataType:
    """``rdtype`` as dnspython's enum, looked up once per type."""
    kind = _TYPES.get(rdtype)
    if kind is None:
        kind = _TYPES[rdtype] = dns.rdatatype.RdataType.make(rdtype)
    return kind


def rdata_from_wire(
    rdtype: int, data: bytes, at: int, rdlen: int, remember: bool = True
) -> dns.rdata.Rdata:
    """The class IN rdata of ``rdtype`` at ``data[at:at + rdlen]``: addresses made
    from their bytes (``a_record``, ``aaaa_record``, passing ``remember`` on),
    anything else by dnspython from the wire, which checks it."""
    if rdtype == _A and rdlen == 4:
        return a_record(data[at : at + 4], remember)
    if rdtype == _AAAA and rdlen == 16:
        return aaaa_record(data[at : at + 16], remember)
    return dns.rdata.from_wire(_IN, type_enum(rdtype), data, at, rdlen)


class KnownName(dns.name.Name):
    """A dnspython name that keeps its hash once worked out.

    dnspython hashes a name with a Python loop over its characters, every
    time it is asked, and its names of one zone's shape collide often (then
    ``==`` compares them the long way). The engine, the store and the config
    keep zones, settings and positions in dicts keyed by names: a start with
    10,000 zones hashed the same names 150,000 times, a fifth of the start.
    The hash is dnspython's, so a KnownName and a plain name for the same
    domain find each other in any dict.
    """

    __slots__ = ("_hash",)
    _hash: int

    def __hash__(self) -> int:
        try:
            return self._hash
        except AttributeError:
            found = _NAME_CLS.__hash__(self)
            _set(self, "_hash", found)
            return found

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, dns.name.Name):
            return False
        mine, theirs = self.labels, other.labels
        if mine == theirs:
            return True
        # dnspython's rule (labels compared ignoring ASCII case), without its
        # general compare: names of one hash but other domains come here.
        if len(mine) != len(theirs):
            return False
        return [label.lower() for label in mine] == [label.lower() for label in theirs]

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)


def name_of_labels(labels: tuple[bytes, ...]) -> dns.name.Name:
    """The name with ``labels`` (already valid: lengths and total are not checked
    again), set directly as a KnownName, or through dnspython's constructor if
    its layout differs."""
    if not _NAME_DIRECT:
        return dns.name.Name(labels)
    name = _new(KnownName)
    _set(name, "labels", labels)
    return name


def stored_name(text: str) -> dns.name.Name:
    """The absolute name whose ``to_text()`` is ``text``. Text without escapes
    (nearly every name) is split into its labels directly; anything else, and
    anything not absolute, goes through ``dns.name.from_text``."""
    if not _NAME_DIRECT or "\\" in text or not text.endswith(".") or text == ".":
        return dns.name.from_text(text)
    labels = tuple(label.encode() for label in text.split("."))
    if len(text) > 254 or any(not 0 < len(label) < 64 for label in labels[:-1]):
        return dns.name.from_text(text)  # let dnspython say what is wrong
    return name_of_labels(labels)


_PLAIN_NAME = re.compile(r"(?:[A-Za-z0-9_*-]{1,63}\.)+\Z")


def name_from_text(text: str) -> dns.name.Name:
    """``dns.name.from_text(text)``, made directly when the name is plain (letters,
    digits, ``-``, ``_``, ``*``; a config file names thousands of zones); anything
    else, IDNA included, goes through dnspython."""
    absolute = text if text.endswith(".") else text + "."
    if len(absolute) < 255 and _PLAIN_NAME.match(absolute):
        return stored_name(absolute)
    return dns.name.from_text(text)


def name_from_wire(wire: bytes) -> dns.name.Name:
    """The absolute name whose uncompressed wire form starts ``wire`` (made or
    already checked by dynzone: label lengths are not checked again)."""
    labels = []
    at = 0
    while True:
        length = wire[at]
        labels.append(wire[at + 1 : at + 1 + length])
        if not length:
            break
        at += length + 1
    return name_of_labels(tuple(labels))


def _slots(cls: type) -> set[str]:
    found: set[str] = set()
    for klass in cls.__mro__:
        found.update(getattr(klass, "__slots__", ()))
    return found


def rdata_of(cls: type[dns.rdata.Rdata], rdtype: int, **fields: object) -> dns.rdata.Rdata:
    """The class IN rdata ``cls`` with ``fields`` (already valid and in the types
    dnspython keeps: names, ints, tuples of bytes), set directly when the
    class's slots are exactly those fields, else through its constructor."""
    known = _LAYOUTS.get(cls)
    if known is None:
        known = _LAYOUTS[cls] = _slots(cls) == {"rdclass", "rdtype", "rdcomment", *fields}
    if not known:
        return cls(_IN, type_enum(rdtype), **fields)
    rd = _new(cls)
    _set(rd, "rdclass", _IN)
    _set(rd, "rdtype", type_enum(rdtype))
    _set(rd, "rdcomment", None)
    for field, value in fields.items():
        _set(rd, field, value)
    return rd


_LAYOUTS: dict[type, bool] = {}


def with_serial(rd: dns.rdata.Rdata, serial: int) -> dns.rdata.Rdata:
    """The SOA ``rd`` with ``serial`` (0 <= serial < 2**32) instead of its own."""
    soa: dns.rdtypes.ANY.SOA.SOA = rd  # type: ignore[assignment]
    if not _DIRECT or not 0 <= serial < 2**32:
        return _SOA_CLS(
            soa.rdclass, soa.rdtype, soa.mname, soa.rname, serial,
            soa.refresh, soa.retry, soa.expire, soa.minimum,
        )  # fmt: skip
    new = _new(_SOA_CLS)
    _set(new, "rdclass", soa.rdclass)
    _set(new, "rdtype", soa.rdtype)
    _set(new, "rdcomment", None)
    for field in _SOA_FIELDS:
        _set(new, field, getattr(soa, field))
    _set(new, "serial", serial)
    return new
