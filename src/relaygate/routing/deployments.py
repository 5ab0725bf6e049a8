"""A deployment: one `models:` entry of a group, with what routing learns about it as it
serves (calls in flight, moving average latency, this minute's requests and tokens) and its
circuit breaker. `observe` is each of its attempts' outcome listener."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from relaygate.routing.breaker import Breaker, BreakerState
from relaygate.routing.settings import TimeoutsSettings

if TYPE_CHECKING:
    from relaygate.pipeline.outcome import Outcome
    from relaygate.routing.registry import Route

DEPLOYMENT_HEADER = "x-relaygate-deployment"
LATENCY_SMOOTHING = 0.2  # weight of the newest sample in the moving average
CLIENT_CLOSED = 499


@dataclass(frozen=True, slots=True)
class DeploymentLimits:
    rpm: int | None = None
    tpm: int | None = None


class Deployment:
    """One upstream of a group, and its running statistics."""

    __slots__ = (
        "_minute",
        "_minute_requests",
        "_minute_tokens",
        "breaker",
        "group",
        "header",
        "id",
        "in_flight",
        "latency_s",
        "limits",
        "metered",
        "on_outcome",
        "outcomes",
        "route",
        "samples",
        "tags",
        "timeouts",
        "weight",
    )

    def __init__(
        self,
        id: str,
        group: str,
        route: Route,
        breaker: Breaker,
        weight: float = 1.0,
        tags: frozenset[str] = frozenset(),
        limits: DeploymentLimits | None = None,
        timeouts: TimeoutsSettings | None = None,
    ) -> None:
        self.id = id
        # the response's x-relaygate-deployment when this one served, encoded once
        self.header = (DEPLOYMENT_HEADER.encode(), id.encode("latin-1", "replace"))
        self.group = group
        self.route = route
        self.breaker = breaker
        self.weight = weight
        self.tags = tags
        self.limits = limits or DeploymentLimits()
        # this minute's requests and tokens are counted only against an rpm or tpm of its own
        self.metered = bool(self.limits.rpm or self.limits.tpm)
        self.timeouts = timeouts
        self.in_flight = 0
        self.latency_s: float | None = None  # moving average: time to first token, or latency
        self.samples = 0  # latency samples
        self.outcomes = 0  # attempts ended
        self._minute = 0
        self._minute_requests = 0
        self._minute_tokens = 0
        # the routing metrics' listener (observability/routing_metrics.py)
        self.on_outcome: Callable[[Deployment, Outcome], None] | None = None

    def started(self) -> None:
        """An attempt goes to this deployment."""
        self.in_flight += 1
        if self.breaker.state is BreakerState.CLOSED and not self.metered:
            return  # the clock is not needed (the usual case)
        now = time.monotonic()
        if self.breaker.state is not BreakerState.CLOSED:  # maybe the half-open probe
            self.breaker.started(now)
        if self.metered:
            self._roll(now)
            self._minute_requests += 1

    def observe(self, outcome: Outcome) -> None:
        """One of this deployment's attempts ended (an outcome listener)."""
        self.in_flight -= 1
        self.outcomes += 1
        status = outcome.status
        now = 0.0  # time.monotonic(), read once when needed
        if status < 400:
            now = time.monotonic()
            self.breaker.succeeded(now)
            sample = outcome.ttft_s if outcome.ttft_s is not None else outcome.latency_s
            self.latency_s = (sample if self.latency_s is None else
                              self.latency_s + LATENCY_SMOOTHING * (sample - self.latency_s))
            self.samples += 1
        elif status >= 500 and status != CLIENT_CLOSED:
            self.breaker.failed()
        else:  # 4xx: the request's fault; 429 is handled as a cooldown where it is raised
            self.breaker.released()
        if self.metered and outcome.usage is not None:
            self._roll(now or time.monotonic())
            self._minute_tokens += outcome.usage.input_tokens + outcome.usage.output_tokens
        if self.on_outcome is not None:
            self.on_outcome(self, outcome)

    def abandoned(self) -> None:
        """An attempt that failed before its upstream call began (no outcome will come)."""
        self.in_flight -= 1
        self.breaker.released()

    def headroom(self, now: float) -> float:
        """The used share of this minute's rpm/tpm (0: idle, 1: at a limit), the `usage` strategy."""
        if not self.metered:
            return 0.0
        self._roll(now)
        limits = self.limits
        used = 0.0
        if limits.rpm:
            used = max(used, self._minute_requests / limits.rpm)
        if limits.tpm:
            used = max(used, self._minute_tokens / limits.tpm)
        return used

    def state(self, now: float) -> BreakerState:
        breaker = self.breaker
        if breaker.state is BreakerState.OPEN and now >= breaker.open_until:
            return BreakerState.HALF_OPEN
        return breaker.state

    def _roll(self, now: float) -> None:
        minute = int(now // 60)
        if minute != self._minute:
            self._minute = minute
            self._minute_requests = self._minute_tokens = 0
