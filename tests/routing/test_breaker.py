"""The circuit breaker's states, driven the way the attempts loop and outcomes drive it."""

from __future__ import annotations

import time

from relaygate.routing.breaker import Breaker, BreakerState
from relaygate.routing.settings import BreakerSettings


def state_of(breaker: Breaker) -> BreakerState:
    return breaker.state


def test_consecutive_failures_open_it_and_a_probe_after_the_cooldown_closes_it() -> None:
    breaker = Breaker(BreakerSettings(failures=3, cooldown_seconds=0.05))
    opened: list[float] = []
    breaker.on_open = opened.append
    for _ in range(2):
        breaker.failed()
    breaker.succeeded()  # the run of failures is broken
    for _ in range(2):
        breaker.failed()
    assert state_of(breaker) is BreakerState.CLOSED
    breaker.failed()
    assert state_of(breaker) is BreakerState.OPEN and opened == [0.05]
    assert not breaker.available(time.monotonic())
    later = time.monotonic() + 0.06
    assert breaker.available(later)
    breaker.started(later)
    assert state_of(breaker) is BreakerState.HALF_OPEN
    assert not breaker.available(later)  # one probe at a time
    breaker.succeeded()
    assert state_of(breaker) is BreakerState.CLOSED and breaker.available(later)


def test_a_failed_probe_opens_it_again() -> None:
    breaker = Breaker(BreakerSettings(failures=1, cooldown_seconds=0.0))
    breaker.failed()
    now = time.monotonic()
    breaker.started(now)
    breaker.failed()
    assert state_of(breaker) is BreakerState.OPEN


def test_an_error_rate_over_the_window_opens_it() -> None:
    breaker = Breaker(BreakerSettings(failures=100, error_rate=0.5, min_calls=10))
    for index in range(9):
        breaker.succeeded() if index % 2 else breaker.failed()
    assert state_of(breaker) is BreakerState.CLOSED  # 9 calls: under min_calls
    breaker.failed()  # 6 of 10
    assert state_of(breaker) is BreakerState.OPEN


def test_a_429_cools_down_for_its_retry_after() -> None:
    breaker = Breaker(BreakerSettings(rate_limit_cooldown_seconds=5))
    breaker.rate_limited(0.5)
    now = time.monotonic()
    assert 0.4 < breaker.remaining(now) <= 0.5
    breaker.rate_limited(None)
    assert 4.9 < breaker.remaining(time.monotonic()) <= 5.0


def test_a_disabled_breaker_never_opens() -> None:
    breaker = Breaker(BreakerSettings(enabled=False, failures=1))
    for _ in range(5):
        breaker.failed()
    breaker.rate_limited(10)
    assert breaker.available(time.monotonic())
