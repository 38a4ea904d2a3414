"""HTTP basic authentication that costs what it must, and no more.

* A generated password (see passwords.py) is checked with a keyed hash in
  microseconds, on the event loop.
* A password a person chose is argon2: about 0.1 s of CPU. A success is
  remembered (``Remembered``) for ``REMEMBER_SECONDS``, so a router that
  updates every few minutes pays it once. What is remembered is an HMAC,
  under a key made at start, of the user, its stored hash and the
  password: never the password. Since the stored hash is part of it, a
  ``user passwd`` or ``user remove`` makes it useless at once. While a
  user's right password is remembered, a different one is wrong for
  certain: it is refused without argon2 (a failed login all the same),
  after as long as a check takes, so that timing does not tell whether the
  user logged in lately.
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
  the budget has no room for, come only after a hold-back: until the bucket
  that ran dry has a token again, at least ``HOLD_BACK_SECONDS`` and at most
  ``HOLD_BACK_LONGEST``. A guesser that sends one request after another
  then costs one cheap refusal every few seconds instead of as many as it
  can send (at most ``HOLD_BACK_MOST`` refusals wait at a time, so held
  connections cannot fill the listener; beyond that they are answered at
  once). A request without credentials (a client that sends them only
  after a 401) is not a failed login.
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
from typing import TypeVar

from dynzone import passwords
from dynzone.http.ratelimit import RateLimit
from dynzone.logs import security
from dynzone.policy import Identity
from dynzone.store.base import Store
from dynzone.users import lookup

T = TypeVar("T")

REMEMBER_SECONDS = 900.0
REMEMBER_MOST = 10_000
HASHING_AT_ONCE = 8
HASHING_PER_MINUTE = 12
HASHING_BURST = 5
HOLD_BACK_SECONDS = 1.0
HOLD_BACK_LONGEST = 5.0
HOLD_BACK_MOST = 128
_ALL = "all"


class Remembered:
    """The password that last passed argon2 for each account, as a keyed digest
    with an expiry (bounded, least recently used forgotten first).

    An account is a user together with its stored hash, so ``user passwd``
    or ``user remove`` leaves nothing that matches. Only one password can
    pass a stored hash: while an account's right password is remembered, any
    other password given for it is wrong for certain, with no argon2 needed.
    """

    def __init__(self, seconds: float = REMEMBER_SECONDS, most: int = REMEMBER_MOST) -> None:
        self.seconds = seconds
        self.most = most
        self._key = os.urandom(32)
        self._accounts: OrderedDict[bytes, tuple[bytes, float]] = OrderedDict()

    def _digests(self, user: str, stored: str, password: str) -> tuple[bytes, bytes]:
        account = hmac.new(self._key, f"{user}\0{stored}".encode(), hashlib.sha256).digest()
        secret = hmac.new(self._key, account + password.encode(), hashlib.sha256).digest()
        return account, secret

    def recall(self, user: str, stored: str, password: str, now: float) -> bool | None:
        """True if ``password`` is the one remembered for the account, False if
        another one is (so this one is wrong), None if none is."""
        account, secret = self._digests(user, stored, password)
        found = self._accounts.get(account)
        if found is None or found[1] <= now:
            return None
        return hmac.compare_digest(found[0], secret)

    def add(self, user: str, stored: str, password: str, now: float) -> None:
        account, secret = self._digests(user, stored, password)
        self._accounts[account] = (secret, now + self.seconds)
        self._accounts.move_to_end(account)
        while len(self._accounts) > self.most:
            self._accounts.popitem(last=False)


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
        self.hold_back_longest = HOLD_BACK_LONGEST
        # How long an argon2 check takes here (a running mean), for answering
        # a password known to be wrong no sooner than a check would.
        self.check_seconds = 0.1
        self.hold_back_most = HOLD_BACK_MOST
        self.checks = 0  # argon2 checks done (the figure the abuse test reads)

    def close(self) -> None:
        self._reads.shutdown(wait=True)
        self._hashing.shutdown(wait=True)
        for store in self._stores:
            store.close()

    def _reader(self) -> Store:
        """The read thread's own store connection."""
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = self.open_reader()
            self._stores.append(store)
        return store

    def _lookup(self, user: str) -> tuple[str, Identity] | None:
        return lookup(self._reader(), user)

    async def read(self, work: Callable[[Store], T]) -> T:
        """``work(store)`` on the read thread, with its store connection: for a
        door whose credentials are checked another way (API tokens)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reads, lambda: work(self._reader()))

    async def check(self, header: str, source: str) -> Identity | str:
        """The caller's identity, or the dyndns2 reply word for why not
        (``badauth``, or ``abuse`` when over a limit). Runs on the event loop."""
        if not self.limit.allowed(source):
            # This address has used up its failed logins for now.
            return await self._refuse(self.limit.wait(source))
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return "badauth"  # no credentials yet: most clients send them only after a 401
        try:
            user, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, sep, password = "", "", ""
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(self._reads, self._lookup, user) if sep else None
        if found is not None:
            stored, identity = found
            if not passwords.costly(stored):
                if passwords.matches(stored, password):
                    return identity
                return await self._failed(user, source)
            recalled = self.remembered.recall(user, stored, password, time.monotonic())
            if recalled:
                return identity
            if recalled is False:
                # Wrong for certain, no argon2 needed; answered after as long as
                # a check takes, so the answer's timing does not tell whether
                # the user logged in lately.
                return await self._failed(user, source, after=self.check_seconds)
        # argon2 work ahead (or its equal for an unknown user): pay for it first.
        if not self.limit.spend(source):
            return await self._refuse(self.limit.wait(source))
        if self.hashing >= HASHING_AT_ONCE or not self.budget.spend(_ALL):
            self.limit.refund(source)  # not a failed login: we are busy
            security("auth-busy", "too many password checks at once; refused", client=source)
            return await self._refuse(self.budget.wait(_ALL))
        self.hashing += 1
        started = time.monotonic()
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
        took = time.monotonic() - started
        self.check_seconds += (took - self.check_seconds) / 8
        if found is not None and right:
            self.limit.refund(source)
            self.budget.refund(_ALL)  # the budget is for wrong passwords
            self.remembered.add(user, found[0], password, time.monotonic())
            return found[1]
        security("failed-login", f"HTTP user {user!r}: wrong or unknown", client=source)
        return "badauth"

    async def _refuse(self, until_token: float) -> str:
        """``abuse``, after a hold-back: until the bucket that ran dry has a
        token again, at least ``hold_back_seconds`` and at most
        ``hold_back_longest``; at once if too many already wait."""
        if self.held_back < self.hold_back_most and self.hold_back_seconds > 0:
            self.held_back += 1
            try:
                wait = min(max(self.hold_back_seconds, until_token), self.hold_back_longest)
                await asyncio.sleep(wait)
            finally:
                self.held_back -= 1
        return "abuse"

    async def _failed(self, user: str, source: str, after: float = 0.0) -> str:
        """A wrong password found without argon2: it counts against the address
        all the same."""
        if not self.limit.spend(source):
            return await self._refuse(self.limit.wait(source))
        security("failed-login", f"HTTP user {user!r}: wrong or unknown", client=source)
        if after > 0:
            await asyncio.sleep(after)
        return "badauth"
