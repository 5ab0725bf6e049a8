"""A circuit breaker per deployment: closed → open (after failures) → half-open (one probe).

Open after `failures` consecutive failures, or when the window's error rate reaches
`error_rate` over at least `min_calls` calls; stay open for the cooldown; then let one probe
through: its success closes the breaker, its failure opens it again. A 429 opens it for the
upstream's Retry-After (a cooldown, not a failure). `on_open` tells the other instances.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import IntEnum

from relaygate.routing.settings import BreakerSettings


class BreakerState(IntEnum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


OpenListener = Callable[[float], None]
"""Called with the seconds a breaker opened for (to share it)."""


class Breaker:
    __slots__ = ("_calls", "_consecutive", "_failures", "_probing", "_settings", "_window_end",
                 "on_open", "open_until", "state")

    def __init__(self, settings: BreakerSettings) -> None:
        self._settings = settings
        self.state = BreakerState.CLOSED
        self.open_until = 0.0  # time.monotonic()
        self._consecutive = 0
        self._calls = 0
        self._failures = 0
        self._window_end = 0.0
        self._probing = False
        self.on_open: OpenListener | None = None

    def available(self, now: float) -> bool:
        """Whether a call may go to this deployment now (half-open: one probe at a time)."""
        if self.state is BreakerState.CLOSED:
            return True
        if now < self.open_until:
            return False
        return not self._probing

    def started(self, now: float) -> None:
        """A call goes out; after the cooldown it is the half-open probe."""
        if self.state is not BreakerState.CLOSED and now >= self.open_until:
            self.state = BreakerState.HALF_OPEN
            self._probing = True

    def succeeded(self, now: float | None = None) -> None:
        """A call succeeded (`now`: time.monotonic(), when the caller has it already)."""
        self._consecutive = 0
        if now is None:
            now = time.monotonic()
        if now >= self._window_end:  # _count(False, now), inline: once per attempt
            self._window_end = now + self._settings.window_seconds
            self._calls = self._failures = 0
        self._calls += 1
        if self.state is not BreakerState.CLOSED:
            self.state = BreakerState.CLOSED
            self._probing = False

    def failed(self) -> None:
        if not self._settings.enabled:
            return
        self._consecutive += 1
        self._count(True, time.monotonic())
        settings = self._settings
        tripped = self._consecutive >= settings.failures or (
            self._calls >= settings.min_calls
            and self._failures / self._calls >= settings.error_rate
        )
        if self.state is BreakerState.HALF_OPEN or tripped:
            self.open(settings.cooldown_seconds)

    def released(self) -> None:
        """A call ended neither way (the client went away, the request was at fault)."""
        self._probing = False

    def rate_limited(self, retry_after: float | None) -> None:
        """A 429: cool down for the upstream's Retry-After (or the configured default)."""
        if not self._settings.enabled:
            return
        seconds = self._settings.rate_limit_cooldown_seconds if retry_after is None else retry_after
        self.open(seconds, share=True)

    def open(self, seconds: float, share: bool = True) -> None:
        """Open for `seconds` from now (or longer, if already open for longer)."""
        until = time.monotonic() + seconds
        if until > self.open_until or self.state is not BreakerState.OPEN:
            self.open_until = max(until, self.open_until)
            self.state = BreakerState.OPEN
            self._probing = False
            self._consecutive = 0
            self._calls = self._failures = 0
            if share and self.on_open is not None and seconds > 0:
                self.on_open(seconds)

    def remaining(self, now: float) -> float:
        """Seconds until a probe may go (0 when it may now)."""
        return max(0.0, self.open_until - now) if self.state is not BreakerState.CLOSED else 0.0

    def _count(self, failed: bool, now: float) -> None:
        if now >= self._window_end:  # a tumbling window
            self._window_end = now + self._settings.window_seconds
            self._calls = self._failures = 0
        self._calls += 1
        if failed:
            self._failures += 1
