"""The answer cache: entries go with the tags they were filed under, and nothing
computed from an older catalog gets in."""

from __future__ import annotations

from dynzone.engine.answer_cache import AnswerCache, CachedAnswer
from dynzone.zones.deps import serial_tag

ENTRY: CachedAnswer = (0x84, 0x00, b"\x00\x01\x00\x01\x00\x00\x00\x00", b"body", 40, ())


def cache() -> tuple[AnswerCache, object]:
    answers = AnswerCache()
    catalog = object()
    answers.current = catalog
    return answers, catalog


def test_retiring_a_tag_drops_its_entries_and_the_replies_made_from_them() -> None:
    answers, catalog = cache()
    answers.put(catalog, b"q1", ENTRY, frozenset({b"t1", b"t2"}))
    answers.put(catalog, b"q2", ENTRY, frozenset({b"t2"}))
    answers.put(catalog, b"q3", ENTRY, frozenset({b"t3"}))
    answers.put_exact(catalog, b"q1", ENTRY, b"wire1", b"reply1")
    assert answers.retire([b"t1"]) == 1
    assert set(answers.entries) == {b"q2", b"q3"} and answers.exact == {}
    assert answers.retire([b"t2", b"nothing"]) == 1
    assert set(answers.entries) == {b"q3"}


def test_answers_from_an_older_catalog_are_not_kept() -> None:
    answers, old = cache()
    answers.current = object()  # a commit swapped catalogs meanwhile
    answers.put(old, b"q", ENTRY, frozenset({b"t"}))
    assert answers.entries == {}


def test_a_reply_made_from_a_retired_entry_is_not_kept() -> None:
    answers, catalog = cache()
    answers.put(catalog, b"q", ENTRY, frozenset({b"t"}))
    answers.retire([b"t"])
    answers.put(catalog, b"q", (*ENTRY[:3], b"new body", *ENTRY[4:]), frozenset({b"t"}))
    answers.put_exact(catalog, b"q", ENTRY, b"wire", b"stale reply")  # from the old entry
    assert answers.exact == {}


ZONE = b"\x04zone\x00"


def test_a_serial_change_retires_whole_replies_but_keeps_the_entry() -> None:
    answers, catalog = cache()
    answers.put(catalog, b"q", ENTRY, frozenset({b"t"}))
    answers.put_exact(catalog, b"q", ENTRY, b"wire", b"head\x00\x00\x00\x01rest", ((4, ZONE),))
    assert answers.exact == {b"wire": b"head\x00\x00\x00\x01rest"}
    answers.retire([serial_tag(ZONE)])
    assert answers.exact == {} and b"q" in answers.entries


def test_a_changing_zones_replies_are_kept_split_around_the_serial() -> None:
    answers, catalog = cache()
    answers.put(catalog, b"q", ENTRY, frozenset({b"t"}))
    answers.retire([serial_tag(ZONE)])  # the zone just changed
    answers.put_exact(catalog, b"q", ENTRY, b"wire", b"head\x00\x00\x00\x02rest", ((4, ZONE),))
    assert answers.exact == {b"wire": (b"head", ZONE, b"rest")}
    answers.retire([serial_tag(ZONE)])  # the next commit leaves it: it is patched when served
    assert b"wire" in answers.exact


def test_a_question_counts_as_asked_again_once_after_its_first_ask() -> None:
    cache = AnswerCache()
    assert cache.asked_again(b"q1") is False
    assert cache.asked_again(b"q2") is False
    assert cache.asked_again(b"q1") is True
    assert cache.asked_again(b"q1") is False  # noted afresh: it was not cached
    assert cache.asked_again(b"q2") is True
