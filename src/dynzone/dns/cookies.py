"""DNS COOKIEs (RFC 7873), with server cookies made as RFC 9018 says.

A client puts an 8-byte client cookie in its query's COOKIE option; we
answer with it followed by a 16-byte server cookie: version 1, three zero
bytes, the time, and SipHash-2-4 over the client cookie, those 8 bytes and
the client's address, keyed by a secret. A client that sends the server
cookie back proves it receives our answers at its address, so it cannot be
a spoofed source: such queries skip response rate limiting (rrl.py).

Because the construction is RFC 9018's, any server holding the same secret
(another dynzone, Knot, BIND, PowerDNS behind the same address) accepts the
cookies we hand out. The secret is made at start; a restart makes clients
learn a new cookie, which costs them nothing but one answer.
"""

from __future__ import annotations

import os
import struct

COOKIE = 10  # the EDNS option code
CLIENT_SIZE = 8
SERVER_SIZE = 16  # ours; others may send 8 to 32 bytes, which we check as foreign
_MASK = 0xFFFFFFFFFFFFFFFF
# RFC 9018 §4.3: valid for an hour, renewed after half of it, and a clock
# up to five minutes ahead of ours is tolerated.
LIFETIME = 3600
RENEW_AFTER = 1800
FUTURE = 300


class MalformedCookie(ValueError):
    """A COOKIE option of a length RFC 7873 §5.2.2 does not allow: FORMERR."""


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & _MASK


def siphash24(key: bytes, data: bytes) -> bytes:
    """SipHash-2-4 of ``data`` under the 16-byte ``key``, as 8 bytes (little endian)."""
    k0, k1 = struct.unpack("<QQ", key)
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573

    def rounds(n: int) -> None:
        nonlocal v0, v1, v2, v3
        for _ in range(n):
            v0 = (v0 + v1) & _MASK
            v1 = _rotl(v1, 13) ^ v0
            v0 = _rotl(v0, 32)
            v2 = (v2 + v3) & _MASK
            v3 = _rotl(v3, 16) ^ v2
            v0 = (v0 + v3) & _MASK
            v3 = _rotl(v3, 21) ^ v0
            v2 = (v2 + v1) & _MASK
            v1 = _rotl(v1, 17) ^ v2
            v2 = _rotl(v2, 32)

    whole = len(data) - len(data) % 8
    for (m,) in struct.iter_unpack("<Q", data[:whole]):
        v3 ^= m
        rounds(2)
        v0 ^= m
    last = int.from_bytes(data[whole:], "little") | ((len(data) & 0xFF) << 56)
    v3 ^= last
    rounds(2)
    v0 ^= last
    v2 ^= 0xFF
    rounds(4)
    return struct.pack("<Q", v0 ^ v1 ^ v2 ^ v3)


class Cookies:
    """Makes and checks server cookies with one secret."""

    def __init__(self, secret: bytes | None = None) -> None:
        self.secret = secret if secret is not None else os.urandom(16)

    def server_cookie(self, client_cookie: bytes, client_ip: bytes, now: int) -> bytes:
        head = b"\x01\x00\x00\x00" + struct.pack("!I", now & 0xFFFFFFFF)
        return head + siphash24(self.secret, client_cookie + head + client_ip)

    def answer(self, option: bytes, client_ip: bytes, now: int) -> tuple[bytes, bool]:
        """The COOKIE option data to send back for the query's ``option`` data,
        and whether the query's server cookie was valid (one of ours, in date)."""
        size = len(option)
        if size != CLIENT_SIZE and not 16 <= size <= 40:
            raise MalformedCookie(f"a COOKIE option of {size} bytes")
        client = option[:CLIENT_SIZE]
        valid = False
        if size == CLIENT_SIZE + SERVER_SIZE and option[8:12] == b"\x01\x00\x00\x00":
            (stamp,) = struct.unpack_from("!I", option, 12)
            age = (now - stamp) & 0xFFFFFFFF  # serial arithmetic across 2106
            fresh = age <= LIFETIME or (0x100000000 - age) <= FUTURE
            if fresh and option[8:] == self.server_cookie(client, client_ip, stamp):
                valid = True
                if age <= RENEW_AFTER or (0x100000000 - age) <= FUTURE:
                    return option, True  # still good: echo it unchanged
        return client + self.server_cookie(client, client_ip, now), valid


def find_cookie(data: bytes, at: int) -> bytes | None:
    """The data of the COOKIE option among the (well-framed) options from ``at``."""
    end = len(data)
    while at + 4 <= end:
        code = data[at] << 8 | data[at + 1]
        size = data[at + 2] << 8 | data[at + 3]
        if code == COOKIE:
            return data[at + 4 : at + 4 + size]
        at += 4 + size
    return None


def option_bytes(payload: bytes) -> bytes:
    """A whole COOKIE option (code, length, data)."""
    return struct.pack("!HH", COOKIE, len(payload)) + payload
