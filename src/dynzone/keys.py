"""TSIG keys (RFC 8945): identities ``key:NAME`` that sign RFC 2136 UPDATEs.

A key holds a shared secret, an HMAC algorithm and grants, from the same
policy engine as HTTP users. Unlike a password, a TSIG secret cannot be kept
as a hash (both ends compute MACs from it), so it is stored as given; the
store file must be readable by dynzone alone (README, "Certificates").
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.tsig

from dynzone.policy import Grant, Identity
from dynzone.store.base import Store

PREFIX = "key:"
DEFAULT_ALGORITHM = "hmac-sha256"

# The names users type (BIND's, nsupdate's) and what goes on the wire.
ALGORITHMS: dict[str, dns.name.Name] = {
    "hmac-md5": dns.tsig.HMAC_MD5,
    "hmac-sha1": dns.tsig.HMAC_SHA1,
    "hmac-sha224": dns.tsig.HMAC_SHA224,
    "hmac-sha256": dns.tsig.HMAC_SHA256,
    "hmac-sha384": dns.tsig.HMAC_SHA384,
    "hmac-sha512": dns.tsig.HMAC_SHA512,
}


_HASHES = {
    "hmac-md5": hashlib.md5,
    "hmac-sha1": hashlib.sha1,
    "hmac-sha224": hashlib.sha224,
    "hmac-sha256": hashlib.sha256,
    "hmac-sha384": hashlib.sha384,
    "hmac-sha512": hashlib.sha512,
}


class KeyError_(Exception):
    """A key command that cannot be done; the message says why."""


@dataclass(frozen=True)
class TsigKey:
    name: str  # lower case, without the final dot
    algorithm: str  # a key of ALGORITHMS
    secret: str  # base64

    @functools.cached_property
    def dns_key(self) -> dns.tsig.Key:
        """The key as dnspython signs with it (decoded once per key object)."""
        return dns.tsig.Key(
            dns.name.from_text(self.name), base64.b64decode(self.secret), ALGORITHMS[self.algorithm]
        )

    @property
    def mac_size(self) -> int:
        return dns.tsig.mac_sizes[ALGORITHMS[self.algorithm]]

    # What dns/tsig.py computes MACs and records with, made once per key.

    @functools.cached_property
    def hmac_template(self) -> hmac.HMAC:
        """A keyed HMAC to ``copy()`` for each message (saves the key schedule)."""
        return hmac.new(self.dns_key.secret, digestmod=_HASHES[self.algorithm])

    @functools.cached_property
    def name_wire(self) -> bytes:
        return self.dns_key.name.to_wire()  # type: ignore[return-value]

    @functools.cached_property
    def name_digestable(self) -> bytes:
        return self.dns_key.name.to_digestable()

    @functools.cached_property
    def algorithm_wire(self) -> bytes:
        return self.dns_key.algorithm.to_wire()  # type: ignore[return-value]

    @functools.cached_property
    def algorithm_digestable(self) -> bytes:
        return self.dns_key.algorithm.to_digestable()


def normalise_name(text: str) -> str:
    """A key name as stored: a valid DNS name, lower case, no final dot."""
    try:
        name = dns.name.from_text(text.strip())
    except dns.exception.DNSException as exc:
        raise KeyError_(f"{text!r} is not usable as a key name: {exc}") from None
    if name == dns.name.root:
        raise KeyError_("the key name is empty")
    return name.to_text(omit_final_dot=True).lower()


def check_secret(secret: str) -> str:
    try:
        raw = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raise KeyError_("the secret is not valid base64") from None
    if len(raw) < 16:
        raise KeyError_("the secret is too short: use at least 16 bytes (24 base64 characters)")
    return secret


def add_key(
    store: Store,
    name: str,
    algorithm: str,
    grants: list[Grant],
    secret: str | None = None,
) -> TsigKey:
    """Create a key; with no ``secret``, one as long as the algorithm's MAC is made."""
    name = normalise_name(name)
    algorithm = algorithm.lower()
    if algorithm not in ALGORITHMS:
        raise KeyError_(f"unknown algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}")
    if secret is None:
        size = dns.tsig.mac_sizes[ALGORITHMS[algorithm]]
        secret = base64.b64encode(secrets.token_bytes(size)).decode()
    key = TsigKey(name, algorithm, check_secret(secret))
    with store.write() as txn:
        if txn.identity(PREFIX + name) is not None:
            raise KeyError_(f"key {name} already exists (remove it first to replace it)")
        txn.add_identity(PREFIX + name, key.secret, grants, algorithm=algorithm)
    return key


def remove_key(store: Store, name: str) -> None:
    name = normalise_name(name)
    with store.write() as txn:
        if not txn.remove_identity(PREFIX + name):
            raise KeyError_(f"no key {name}")


def all_keys(store: Store) -> list[tuple[TsigKey, Identity]]:
    """Every key with its identity (grants), by name."""
    out = []
    for ident, algorithm, secret in store.secrets(PREFIX):
        key = TsigKey(ident[len(PREFIX) :], algorithm, secret)
        out.append((key, Identity(ident, store.grants(ident))))
    return out


class Keyring:
    """The keys a server checks signatures with, read from the store.

    ``find`` re-reads the keys whenever identities changed since the last
    look (``Store.identities_version``, checked only when another connection
    committed anything at all), so ``dynzone key add`` and ``key remove``
    take effect at the next message without a reload. Any thread may call
    it: each has a store connection of its own, and the keys are shared.
    """

    def __init__(self, open_store: Callable[[], Store]) -> None:
        self._open = open_store
        self._local = threading.local()
        self._lock = threading.Lock()
        self._stores: list[Store] = []
        self._identities: int | None = None
        self._keys: dict[dns.name.Name, tuple[TsigKey, Identity]] = {}

    def find(self, name: dns.name.Name) -> tuple[TsigKey, Identity] | None:
        local = self._local
        store: Store | None = getattr(local, "store", None)
        if store is None:
            store = local.store = self._open()
            local.version = None
            with self._lock:
                self._stores.append(store)
        version = store.version()
        if version != local.version:
            local.version = version
            identities = store.identities_version()
            if identities != self._identities:
                # dns.name.Name compares and hashes case-insensitively, as key names must.
                keys = {dns.name.from_text(k.name): (k, i) for k, i in all_keys(store)}
                with self._lock:
                    self._keys, self._identities = keys, identities
        return self._keys.get(name)

    def close(self) -> None:
        """Close the threads' store connections (once those threads are done)."""
        with self._lock:
            for store in self._stores:
                store.close()
            self._stores.clear()


def bind_key_file(key: TsigKey) -> str:
    """The key as a BIND key file, for ``nsupdate -k`` and named.conf."""
    return f'key "{key.name}" {{\n\talgorithm {key.algorithm};\n\tsecret "{key.secret}";\n}};\n'


def certbot_credentials(key: TsigKey, server: str, port: int) -> str:
    """The certbot-dns-rfc2136 credentials file for this key.

    certbot looks the algorithm up by its upper-case name and silently falls
    back to HMAC-MD5 for anything else, so it must be written in capitals.
    """
    return (
        f"dns_rfc2136_server = {server}\n"
        f"dns_rfc2136_port = {port}\n"
        f"dns_rfc2136_name = {key.name}\n"
        f"dns_rfc2136_secret = {key.secret}\n"
        f"dns_rfc2136_algorithm = {key.algorithm.upper()}\n"
    )
