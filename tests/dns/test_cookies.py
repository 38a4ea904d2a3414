"""Server cookies as RFC 9018 makes them: its test vectors, and the checks of RFC 7873."""

from __future__ import annotations

import ipaddress

import pytest

from dynzone.dns.cookies import Cookies, MalformedCookie, siphash24

SECRET = bytes.fromhex("e5e973e5a6b2a43f48e7dc849e37bfcf")
CLIENT = bytes.fromhex("2464c4abcf10c957")
IP = ipaddress.ip_address("198.51.100.100").packed


def test_siphash_matches_the_reference_vector() -> None:
    # SipHash-2-4, key 00..0f, message 00..0e: 0xa129ca6149be45e5 (little endian out)
    assert siphash24(bytes(range(16)), bytes(range(15))) == bytes.fromhex("e545be4961ca29a1")


def test_rfc_9018_appendix_a1_and_a2() -> None:
    cookies = Cookies(SECRET)
    assert cookies.server_cookie(CLIENT, IP, 1559731985).hex() == (
        "010000005cf79f111f8130c3eee29480"
    )
    assert cookies.server_cookie(CLIENT, IP, 1559734385).hex() == (
        "010000005cf7a871d4a564a1442aca77"
    )


def test_a_client_cookie_alone_gets_a_new_server_cookie() -> None:
    answer, valid = Cookies(SECRET).answer(CLIENT, IP, 1559731985)
    assert answer.hex() == CLIENT.hex() + "010000005cf79f111f8130c3eee29480" and not valid


def test_our_cookie_is_valid_for_an_hour_and_renewed_after_half_of_it() -> None:
    cookies = Cookies(SECRET)
    sent = CLIENT + cookies.server_cookie(CLIENT, IP, 1000)
    assert cookies.answer(sent, IP, 1000 + 60) == (sent, True)  # echoed as it was
    renewed, valid = cookies.answer(sent, IP, 1000 + 2400)
    assert valid and renewed != sent and renewed[:8] == CLIENT
    assert cookies.answer(sent, IP, 1000 + 3601)[1] is False  # too old
    assert cookies.answer(sent, bytes(4), 1000)[1] is False  # another address


@pytest.mark.parametrize("size", [0, 4, 9, 15, 41])
def test_a_cookie_option_of_a_wrong_length_is_malformed(size: int) -> None:
    with pytest.raises(MalformedCookie):
        Cookies(SECRET).answer(bytes(size), IP, 0)
