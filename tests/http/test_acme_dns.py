"""acme-dns request bodies: what is accepted, and the error word for what is not."""

from __future__ import annotations

import pytest

from dynzone.http.acme_dns import AcmeError, parse_allowfrom, parse_update

SUB = "d420c923-bbd7-4056-ab64-c3ca54c9b3cf"
VALUE = "LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo"


def word(call: object) -> str:
    with pytest.raises(AcmeError) as caught:
        call()  # type: ignore[operator]
    return caught.value.word


def test_an_update_body_gives_subdomain_and_value() -> None:
    assert parse_update({"subdomain": SUB, "txt": VALUE}) == (SUB, VALUE)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([SUB, VALUE], "malformed_json_payload"),
        ({"txt": VALUE}, "bad_subdomain"),
        ({"subdomain": "../etc", "txt": VALUE}, "bad_subdomain"),
        ({"subdomain": SUB.upper(), "txt": VALUE}, "bad_subdomain"),
        ({"subdomain": SUB}, "bad_txt"),
        ({"subdomain": SUB, "txt": VALUE[:-1]}, "bad_txt"),
        ({"subdomain": SUB, "txt": VALUE[:-1] + '"'}, "bad_txt"),
        ({"subdomain": SUB, "txt": 12}, "bad_txt"),
    ],
)
def test_a_bad_update_body_gets_acme_dns_error_word(body: object, expected: str) -> None:
    assert word(lambda: parse_update(body)) == expected


def test_register_bodies() -> None:
    assert parse_allowfrom(None) == ()
    assert parse_allowfrom({}) == ()
    assert parse_allowfrom({"allowfrom": ["192.0.2.0/24"]}) == ("192.0.2.0/24",)
    assert word(lambda: parse_allowfrom(["192.0.2.0/24"])) == "malformed_json_payload"
    assert word(lambda: parse_allowfrom({"allowfrom": "192.0.2.0/24"})) == "invalid_allowfrom_cidr"
    assert word(lambda: parse_allowfrom({"allowfrom": [1]})) == "invalid_allowfrom_cidr"
