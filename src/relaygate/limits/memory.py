"""The in-process limiter: one instance's own windows and slot counts (the default)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence

from relaygate.limits.meters import (
    ALLOWED,
    CONCURRENCY_RETRY_SECONDS,
    WINDOWS,
    Kind,
    Meter,
    Verdict,
)


class SlidingWindow:
    """Counts by bucket index, oldest first, and their total."""

    __slots__ = ("counts", "order", "total")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.order: deque[int] = deque()
        self.total = 0

    def expire(self, cutoff: int) -> None:
        """Forget the buckets before `cutoff`."""
        order, counts = self.order, self.counts
        while order and order[0] < cutoff:
            self.total -= counts.pop(order.popleft())

    def add(self, bucket: int, amount: int) -> None:
        if bucket in self.counts:
            self.counts[bucket] += amount
        else:
            self.counts[bucket] = amount
            self.order.append(bucket)
        self.total += amount

    def settle(self, bucket: int, delta: int) -> None:
        """Correct what `bucket` holds (a reservation → the real usage), if still counted."""
        if bucket in self.counts:
            self.counts[bucket] += delta
            self.total += delta

    def freed_after(self, need: int) -> int | None:
        """The bucket whose leaving frees `need` (None: it does not hold that much)."""
        freed = 0
        for bucket in self.order:
            freed += self.counts[bucket]
            if freed >= need:
                return bucket
        return None


class RequestLog:
    """The times of the requests of the last window, oldest first: exact, one entry per
    request passed (at most the limit)."""

    __slots__ = ("times",)

    def __init__(self) -> None:
        self.times: deque[float] = deque()

    def expire(self, cutoff: float) -> None:
        times = self.times
        while times and times[0] <= cutoff:
            times.popleft()


class MemoryLimiter:
    """Limits counted in this process; `clock` is monotonic seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, SlidingWindow] = {}
        self._logs: dict[str, RequestLog] = {}
        self._in_flight: dict[str, int] = {}

    async def check(self, meters: Sequence[Meter], lease: str) -> Verdict:
        """Counts the call against every meter, or against none when one refuses it."""
        now = self._clock()
        for meter in meters:
            verdict = self._look(meter, now)
            if verdict is not None:
                return verdict
        for meter in meters:
            if meter.kind is Kind.MAX_CONCURRENT:
                self._in_flight[meter.key] = meter.used + 1
            elif meter.kind is Kind.RPM:
                self._logs[meter.key].times.append(now)
            else:
                self._windows[meter.key].add(meter.bucket, meter.cost)
        return ALLOWED

    def _look(self, meter: Meter, now: float) -> Verdict | None:
        """Fill in `meter`; the refusal when the call would cross it."""
        if meter.kind is Kind.MAX_CONCURRENT:
            meter.used = self._in_flight.get(meter.key, 0)
            meter.remaining = meter.limit - meter.used - 1
            if meter.remaining < 0:
                meter.remaining = 0
                return Verdict(meter, CONCURRENCY_RETRY_SECONDS)
            return None
        if meter.kind is Kind.RPM:
            return self._look_log(meter, now)
        shape = WINDOWS[meter.kind]
        width = shape.bucket_seconds
        bucket = int(now // width)
        window = self._windows.get(meter.key)
        if window is None:
            window = self._windows[meter.key] = SlidingWindow()
        window.expire(bucket - shape.buckets)
        meter.bucket, meter.used = bucket, window.total
        left = meter.limit - window.total - meter.cost
        oldest = window.order[0] if window.order else bucket
        meter.reset_seconds = max((oldest + shape.buckets + 1) * width - now, 0.0)
        if left >= 0:
            meter.remaining = left
            return None
        meter.remaining = max(meter.limit - window.total, 0)
        if meter.cost > meter.limit:
            return Verdict(meter, None)
        frees = window.freed_after(-left)
        assert frees is not None  # the window holds more than the limit leaves for this call
        return Verdict(meter, max((frees + shape.buckets + 1) * width - now, 0.001))

    def _look_log(self, meter: Meter, now: float) -> Verdict | None:
        log = self._logs.get(meter.key)
        if log is None:
            log = self._logs[meter.key] = RequestLog()
        seconds = WINDOWS[Kind.RPM].seconds
        log.expire(now - seconds)
        times = log.times
        meter.used = len(times)
        meter.reset_seconds = times[0] + seconds - now if times else seconds  # (this one)
        left = meter.limit - meter.used - meter.cost
        if left >= 0:
            meter.remaining = left
            return None
        meter.remaining = max(meter.limit - meter.used, 0)
        # the call fits once the oldest `-left` requests are a window old
        return Verdict(meter, max(times[-left - 1] + seconds - now, 0.001))

    def finish(self, meters: Sequence[Meter], lease: str, tokens: int | None) -> None:
        """The call ended: its slots are free, its reservations become `tokens` (None: kept)."""
        for meter in meters:
            if meter.kind is Kind.MAX_CONCURRENT:
                left = self._in_flight.get(meter.key, 1) - 1
                if left > 0:
                    self._in_flight[meter.key] = left
                else:
                    self._in_flight.pop(meter.key, None)
            elif tokens is not None and meter.kind is not Kind.RPM:
                window = self._windows.get(meter.key)
                if window is not None:
                    window.settle(meter.bucket, tokens - meter.cost)

    def close(self) -> None:
        """Nothing to release: the state dies with the process."""
