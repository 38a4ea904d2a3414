"""HTTP basic authentication that costs what it must, and no more.

* A generated password (see passwords.py) is checked with a keyed hash in
  microseconds, on the event loop.
* A password a person chose is argon2: about 0.1 s of CPU. A success is
  remembered (``Remembered``) for ``REMEMBER_SECONDS``, so a router that
  updates every few minutes pays it once. What is remembered is an HMAC,
  under a key made at start, of the user, its stored hash and the
  password: never the password. Since the stored hash is part of it, a
  ``user passwd`` or ``user remove`` makes it useless at once.
* Before any argon2 work, a failed-login token is taken from the client
  address's bucket (``failed_logins_per_minute``) and given back when the
  password turns out right: concurrency cannot get more guesses checked than
  the limit. At most ``HASHING_AT_ONCE`` argon2 checks run or wait at a
  time, and all addresses together get ``HASHING_PER_MINUTE`` of them that
  fail (a burst of ``HASHING_BURST``; a right password gives its token
  back, so logins that succeed never use it up); beyond that a client gets
  ``abuse``.
  argon2 keeps every core busy while it runs, so without that budget a
  flood of wrong passwords from many addresses would take the CPU from the
  DNS queries; with it, the flood costs a bounded share, and cached or
  generated credentials never wait behind it. The hashing thread runs at
  the lowest CPU priority, so even that share goes to DNS first. A chosen
  password not checked yet may be refused while a flood lasts: the price
  of keeping the flood's cost bounded.
* An address that has used up its failed logins gets ``abuse`` for any
  login until its bucket refills. That refusal, and the one for a check
  the budget has no room for, come only after ``HOLD_BACK_SECONDS``:
  a guesser that sends one request after another then costs one cheap
  refusal a second instead of as many as it can send (at most
  ``HOLD_BACK_MOST`` refusals wait at a time, so held connections cannot
  fill the listener; beyond that they are answered at once). A request
  without credentials (a client that sends them only after a 401) is not a
  failed login.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from dynzone import passwords
from dynzone.http.ratelimit import RateLimit
from dynzone.logs import security
from dynzone.policy import Identity
from dynzone.store.base import Store
from dynzone.users import lookup

REMEMBER_SECONDS = 900.0
REMEMBER_MOST = 10_000
HASHING_AT_ONCE = 8
HASHING_PER_MINUTE = 12
HASHING_BURST = 5
HOLD_BACK_SECONDS = 1.0
HOLD_BACK_MOST = 128
_ALL = "all"


class Remembered:
    """Recent successful argon2 checks, as keyed digests with an expiry (bounded)."""

    def __init__(self, seconds: float = REMEMBER_SECONDS, most: int = REMEMBER_MOST) -> None:
        self.seconds = seconds
        self.most = most
        self._key = os.urandom(32)
        self._seen: OrderedDict[bytes, float] = OrderedDict()

    def digest(self, user: str, stored: str, password: str) -> bytes:
        message = "\0".join((user, stored, password)).encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def knows(self, digest: bytes, now: float) -> bool:
        expires = self._seen.get(digest)
        return expires is not None and expires > now

    def add(self, digest: bytes, now: float) -> None:
        self._seen[digest] = now + self.seconds
        self._seen.move_to_end(digest)
        while len(self._seen) > self.most:
            self._seen.popitem(last=False)


def _lowest_priority() -> None:
    """Run the calling thread (and the threads argon2 starts from it) at the lowest
    CPU priority: password checks then take only CPU that answering DNS does not
    need. Linux schedules each thread on its own: SCHED_IDLE runs it only when
    a core has nothing else to do, and nice 19 is the fallback; elsewhere this
    does nothing."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))


class Authenticator:
    """Checks HTTP basic credentials for the dyndns2 door (and any later door)."""

    def __init__(self, open_reader: Callable[[], Store], failed_per_minute: int) -> None:
        self.open_reader = open_reader
        self.limit = RateLimit(failed_per_minute)
        # All addresses together may have as many checked as one address may.
        self.budget = RateLimit(
            max(HASHING_PER_MINUTE, failed_per_minute),
            burst=max(HASHING_BURST, failed_per_minute),
        )
        self.remembered = Remembered()
        # Reading a user is quick; argon2 is slow: separate threads, so reads
        # never wait behind hashing.
        self._reads = ThreadPoolExecutor(1, thread_name_prefix="dynzone-auth-read")
        self._hashing = ThreadPoolExecutor(
            1, thread_name_prefix="dynzone-auth", initializer=_lowest_priority
        )
        self._local = threading.local()
        self._stores: list[Store] = []
        self.hashing = 0  # argon2 checks running or waiting
        self.held_back = 0  # refusals waiting out hold_back_seconds
        self.hold_back_seconds = HOLD_BACK_SECONDS
        self.hold_back_most = HOLD_BACK_MOST
        self.checks = 0  # argon2 checks done (the figure the abuse test reads)

    def close(self) -> None:
        self._reads.shutdown(wait=True)
        self._hashing.shutdown(wait=True)
        for store in self._stores:
            store.close()

    def _lookup(self, user: str) -> tuple[str, Identity] | None:
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = self.open_reader()
            self._stores.append(store)
        return lookup(store, user)

    async def check(self, header: str, source: str) -> Identity | str:
        """The caller's identity, or the dyndns2 reply word for why not
        (``badauth``, or ``abuse`` when over a limit). Runs on the event loop."""
        if not self.limit.allowed(source):
            # This address has used up its failed logins for now.
            await self._hold_back()
            return "abuse"
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return "badauth"  # no credentials yet: most clients send them only after a 401
        try:
            user, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, sep, password = "", "", ""
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(self._reads, self._lookup, user) if sep else None
        now = time.monotonic()
        if found is not None:
            stored, identity = found
            if not passwords.costly(stored):
                if passwords.matches(stored, password):
                    return identity
                return self._failed(user, source)
            digest = self.remembered.digest(user, stored, password)
            if self.remembered.knows(digest, now):
                return identity
        # argon2 work ahead (or its equal for an unknown user): pay for it first.
        if not self.limit.spend(source):
            return "abuse"
        if self.hashing >= HASHING_AT_ONCE or not self.budget.spend(_ALL):
            self.limit.refund(source)  # not a failed login: we are busy
            security("auth-busy", "too many password checks at once; refused", client=source)
            await self._hold_back()
            return "abuse"
        self.hashing += 1
        try:
            if found is None:
                await loop.run_in_executor(self._hashing, passwords.waste, password)
                right = False
            else:
                right = await loop.run_in_executor(
                    self._hashing, passwords.matches, found[0], password
                )
        finally:
            self.hashing -= 1
            self.checks += 1
        if found is not None and right:
            self.limit.refund(source)
            self.budget.refund(_ALL)  # the budget is for wrong passwords
            self.remembered.add(digest, time.monotonic())
            return found[1]
        security("failed-login", f"HTTP user {user!r}: wrong or unknown", client=source)
        return "badauth"

    async def _hold_back(self) -> None:
        """Wait before a refusal, unless too many already wait."""
        if self.held_back >= self.hold_back_most or self.hold_back_seconds <= 0:
            return
        self.held_back += 1
        try:
            await asyncio.sleep(self.hold_back_seconds)
        finally:
            self.held_back -= 1

    def _failed(self, user: str, source: str) -> str:
        """A failed cheap check: it counts against the address all the same."""
        if not self.limit.spend(source):
            return "abuse"
        security("failed-login", f"HTTP user {user!r}: wrong or unknown", client=source)
        return "badauth"
