"""The sliding window itself, on a clock the test moves: exact per rolling minute, never
twice the limit across a window edge."""

from __future__ import annotations

import asyncio
import bisect

from relaygate.limits.memory import MemoryLimiter
from relaygate.limits.meters import Kind, Meter


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _passes(limiter: MemoryLimiter, kind: Kind = Kind.RPM, limit: int = 100,
            cost: int = 1) -> bool:
    return asyncio.run(limiter.check([Meter("key:k", kind, limit, cost)], "lease")).allowed


def test_100_rpm_lets_100_through_per_rolling_minute_not_200_at_an_edge() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock)
    passed: list[float] = []
    # idle, then a request every 10 ms for 5 minutes: bursts at window edges included
    for step in range(30_000):
        clock.now = 1_000.0 + step * 0.01
        if _passes(limiter):
            passed.append(clock.now)
    counts = [bisect.bisect_left(passed, start + 60) - bisect.bisect_left(passed, start)
              for start in passed if start + 60 <= passed[-1]]
    assert max(counts) == 100
    assert min(counts) >= 99  # the request every 10 ms that comes just after one left
    assert len(passed) in range(495, 501)  # 5 minutes


def test_a_refusal_says_when_the_call_would_pass() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock)
    assert _passes(limiter, limit=2)
    clock.now += 10
    assert _passes(limiter, limit=2)
    clock.now += 5
    verdict = asyncio.run(limiter.check([Meter("key:k", Kind.RPM, 2, 1)], "lease"))
    assert verdict.retry_after is not None and abs(verdict.retry_after - 45) < 1e-6
    clock.now += verdict.retry_after
    assert _passes(limiter, limit=2)


def test_tokens_settle_into_the_bucket_they_were_reserved_in() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock)
    meters = [Meter("key:k", Kind.TPM, 1000, 900)]
    assert asyncio.run(limiter.check(meters, "a")).allowed
    assert not _passes(limiter, Kind.TPM, 1000, 200)
    limiter.finish(meters, "a", 100)  # it used 100 of the 900 reserved
    assert _passes(limiter, Kind.TPM, 1000, 200)
    clock.now += 61  # a minute on, the window is empty again
    assert _passes(limiter, Kind.TPM, 1000, 1000)


def test_a_call_refused_by_one_limit_counts_against_none() -> None:
    limiter = MemoryLimiter(Clock())
    tight, loose = Meter("model:m", Kind.RPM, 1, 1), Meter("key:k", Kind.RPM, 10, 1)
    assert asyncio.run(limiter.check([loose, tight], "a")).allowed
    verdict = asyncio.run(limiter.check([Meter("key:k", Kind.RPM, 10, 1),
                                         Meter("model:m", Kind.RPM, 1, 1)], "b"))
    assert verdict.refused is not None and verdict.refused.owner == "model:m"
    counted = Meter("key:k", Kind.RPM, 10, 1)
    asyncio.run(limiter.check([counted], "c"))
    assert counted.used == 1  # only the first call's
