"""Name keys, texts and containment, as the write path compares names."""

from __future__ import annotations

import dns.name
import pytest

from dynzone.zones.names import key_from, key_of, key_within, lower_text, plain_text, text_of


def k(text: str) -> bytes:
    return key_of(dns.name.from_text(text))


@pytest.mark.parametrize(
    ("name", "zone", "within"),
    [
        ("example.com.", "example.com.", True),
        ("a.example.com.", "example.com.", True),
        ("A.B.Example.COM.", "example.com.", True),
        ("example.com.", "a.example.com.", False),
        ("aexample.com.", "example.com.", False),
        ("a.example.org.", "example.com.", False),
        ("anything.", ".", True),
    ],
)
def test_key_within_agrees_with_is_subdomain(name: str, zone: str, within: bool) -> None:
    n, z = dns.name.from_text(name), dns.name.from_text(zone)
    assert n.is_subdomain(z) is within
    assert key_within(key_of(n), key_of(z)) is within


def test_a_label_that_contains_the_zone_key_is_not_inside_it() -> None:
    # The label "a\004test" ends with the bytes of "test." as a key, but the
    # name is a child of the root, not of test.
    tricky = dns.name.Name([b"a\x04test", b""])
    assert not tricky.is_subdomain(dns.name.from_text("test."))
    assert not key_within(key_of(tricky), k("test."))


def test_the_memos_give_what_dnspython_gives_for_each_object() -> None:
    names = [dns.name.from_text(f"Host{i}.Example.COM.") for i in range(10_000)]
    for name in names + names[:100]:
        assert key_of(name) == key_from(name) == name.to_wire().lower()  # type: ignore[union-attr]
        assert text_of(name) == name.to_text()
        assert lower_text(name) == name.to_text().lower()


def test_plain_text_is_dnspython_s_text_or_nothing() -> None:
    for text in ["example.com.", "A.b-c.C.", "*.wild.example.", "_sip._tcp.x.", "."]:
        name = dns.name.from_text(text)
        assert plain_text(name.labels) in (name.to_text(), None)
    assert plain_text(dns.name.from_text("Host1.Example.").labels) == "Host1.Example."
    # Labels that need an escape are left to dnspython.
    assert plain_text(dns.name.from_text("a\\.b.example.").labels) is None
    assert plain_text(dns.name.from_text('q\\"x.example.').labels) is None
