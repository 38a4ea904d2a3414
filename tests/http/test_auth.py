"""HTTP authentication: limits charged before argon2, successes remembered, cheap
checks for generated passwords, and no failed login for a request without credentials."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from dynzone.http.auth import Authenticator
from dynzone.policy import Grant
from dynzone.store import open_store
from dynzone.users import add_user, set_password

LIMIT = 5


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def auth(tmp_path: Path) -> Iterator[Authenticator]:
    store = open_store(tmp_path)
    add_user(store, "chosen", "a person's password", [Grant("a.example.com.")])
    add_user(store, "made", "generated-secret-123", [Grant("b.example.com.")], generated=True)
    store.close()
    auth = Authenticator(lambda: open_store(tmp_path), LIMIT)
    auth.hold_back_seconds = 0  # the tests below count replies; the hold-back has its own
    yield auth
    auth.close()


def test_fifty_simultaneous_wrong_passwords_get_exactly_the_limit_of_checks(
    auth: Authenticator,
) -> None:
    async def flood() -> list[object]:
        header = basic("chosen", "wrong")
        return await asyncio.gather(*(auth.check(header, "192.0.2.9") for _ in range(50)))

    replies = asyncio.run(flood())
    assert auth.checks == LIMIT
    assert replies.count("badauth") == LIMIT and replies.count("abuse") == 50 - LIMIT


def test_a_success_is_remembered_and_forgotten_when_the_password_changes(
    auth: Authenticator, tmp_path: Path
) -> None:
    header = basic("chosen", "a person's password")
    first = asyncio.run(auth.check(header, "192.0.2.1"))
    assert not isinstance(first, str) and first.name == "user:chosen"
    assert auth.checks == 1
    for _ in range(5):
        assert not isinstance(asyncio.run(auth.check(header, "192.0.2.1")), str)
    assert auth.checks == 1, "remembered: no argon2 again"
    store = open_store(tmp_path)
    set_password(store, "chosen", "a new password")
    store.close()
    assert asyncio.run(auth.check(header, "192.0.2.1")) == "badauth"


def test_a_generated_password_never_costs_argon2(auth: Authenticator) -> None:
    ok = asyncio.run(auth.check(basic("made", "generated-secret-123"), "192.0.2.2"))
    assert not isinstance(ok, str)
    assert asyncio.run(auth.check(basic("made", "nope"), "192.0.2.2")) == "badauth"
    assert auth.checks == 0


def test_a_request_without_credentials_is_not_a_failed_login(auth: Authenticator) -> None:
    for _ in range(3 * LIMIT):
        assert asyncio.run(auth.check("", "192.0.2.3")) == "badauth"
    right = asyncio.run(auth.check(basic("made", "generated-secret-123"), "192.0.2.3"))
    assert not isinstance(right, str)


def test_a_flood_from_many_addresses_gets_a_bounded_number_of_checks(
    auth: Authenticator,
) -> None:
    from dynzone.http.auth import HASHING_AT_ONCE, HASHING_BURST

    bound = min(HASHING_AT_ONCE, HASHING_BURST)

    async def flood() -> list[object]:
        header = basic("chosen", "wrong")
        return await asyncio.gather(*(auth.check(header, f"198.51.100.{i}") for i in range(40)))

    replies = asyncio.run(flood())
    assert auth.checks == bound  # argon2 takes every core: a bound for all addresses
    assert replies.count("abuse") == 40 - bound
    # Those turned away were not charged a failed login: they may try again later.
    assert auth.limit.allowed("198.51.100.39")


def test_one_after_another_from_many_addresses_the_checks_stay_within_the_budget(
    auth: Authenticator,
) -> None:
    from dynzone.http.auth import HASHING_BURST

    async def one_by_one() -> list[object]:
        header = basic("chosen", "wrong")
        return [await auth.check(header, f"203.0.113.{i}") for i in range(2 * HASHING_BURST)]

    replies = asyncio.run(one_by_one())
    assert auth.checks == HASHING_BURST
    assert replies[:HASHING_BURST] == ["badauth"] * HASHING_BURST
    assert replies[HASHING_BURST:] == ["abuse"] * HASHING_BURST


def test_refusals_to_an_address_over_its_limit_are_held_back_a_bounded_number_at_once(
    auth: Authenticator,
) -> None:
    auth.hold_back_seconds = 60
    auth.hold_back_most = 2
    header = basic("chosen", "wrong")

    async def scenario() -> None:
        for _ in range(LIMIT):  # use up the address's failed logins
            auth.hold_back_seconds, held = 0, auth.hold_back_seconds
            assert await auth.check(header, "192.0.2.77") == "badauth"
            auth.hold_back_seconds = held
        waiting = [asyncio.create_task(auth.check(header, "192.0.2.77")) for _ in range(2)]
        await asyncio.sleep(0.05)
        assert auth.held_back == 2 and not any(t.done() for t in waiting)
        # A third finds the hold-back full and is refused at once.
        assert await auth.check(header, "192.0.2.77") == "abuse"
        for t in waiting:
            t.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        assert auth.held_back == 0

    asyncio.run(scenario())
    assert auth.checks == LIMIT


def test_right_passwords_give_the_budget_for_all_addresses_back(auth: Authenticator) -> None:
    from dynzone.http.auth import HASHING_BURST

    right = basic("chosen", "a person's password")

    async def logins() -> None:
        for i in range(2 * HASHING_BURST):
            auth.remembered = type(auth.remembered)()  # forget: each login costs argon2
            assert not isinstance(await auth.check(right, f"192.0.2.{100 + i}"), str)

    asyncio.run(logins())
    assert auth.checks == 2 * HASHING_BURST


def test_password_hashing_runs_at_the_lowest_cpu_priority(auth: Authenticator) -> None:
    import os
    import threading

    def policy() -> tuple[int, int]:
        tid = threading.get_native_id()
        return os.sched_getscheduler(tid), os.getpriority(os.PRIO_PROCESS, tid)

    scheduler, nice = auth._hashing.submit(policy).result(timeout=10)
    assert (scheduler, nice) == (os.SCHED_IDLE, 19)
    assert os.sched_getscheduler(0) != os.SCHED_IDLE  # the rest of the process is not


def test_a_wrong_password_for_a_remembered_user_costs_no_argon2_but_is_a_failed_login(
    auth: Authenticator,
) -> None:
    right, wrong = basic("chosen", "a person's password"), basic("chosen", "wrong")

    async def scenario() -> tuple[object, object, float]:
        assert not isinstance(await auth.check(right, "192.0.2.1"), str)
        auth.check_seconds = 0.2  # as if a check took that long here
        started = asyncio.get_running_loop().time()
        refused = await auth.check(wrong, "192.0.2.2")
        took = asyncio.get_running_loop().time() - started
        return refused, await auth.check(right, "192.0.2.2"), took

    refused, again, took = asyncio.run(scenario())
    assert refused == "badauth" and not isinstance(again, str)
    assert auth.checks == 1, "the wrong one was known wrong: argon2 ran for the first login only"
    # The refusal waits as long as a check would, so it does not give away
    # that the user logged in lately.
    assert took >= 0.2
    # It counted: the address has one failed login fewer.
    assert auth.limit.wait("192.0.2.2") == 0.0
    for _ in range(LIMIT - 1):
        assert asyncio.run(auth.check(wrong, "192.0.2.2")) == "badauth"
    assert not auth.limit.allowed("192.0.2.2")
    assert auth.checks == 1


def test_refusals_are_held_until_the_bucket_refills_within_bounds(
    auth: Authenticator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dynzone.http import auth as module

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(module.asyncio, "sleep", sleep)
    auth.hold_back_seconds, auth.hold_back_longest = 1.0, 5.0
    made = basic("made", "not-the-secret")

    async def scenario() -> list[object]:
        return [await auth.check(made, "192.0.2.8") for _ in range(LIMIT + 2)]

    replies = asyncio.run(scenario())
    assert replies == ["badauth"] * LIMIT + ["abuse"] * 2
    # 5 a minute: the next token is 12 s away, more than the longest hold-back.
    assert slept == [5.0, 5.0]
    slept.clear()
    auth.hold_back_longest = 60.0
    assert asyncio.run(auth.check(made, "192.0.2.8")) == "abuse"
    assert 11.0 < slept[0] <= 12.0
    slept.clear()
    # A bucket about to refill still holds the refusal back the shortest time.
    auth.limit.wait = lambda key, now=None: 0.01  # type: ignore[method-assign]
    assert asyncio.run(auth.check(made, "192.0.2.8")) == "abuse"
    assert slept == [1.0]
