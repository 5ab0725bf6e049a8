"""Load-balancing strategies: the order in which a group's deployments are tried for a call.

Each strategy returns every deployment (the first is preferred; the rest are the order of
failover); open breakers are skipped later, when the attempts are made. A `Rotation`
(weighted, round robin) only picks the first: the rest follow it in the group's order, so a
group keeps one plan per first deployment, built once.
"""

from __future__ import annotations

import itertools
import random
import time
from abc import ABC, abstractmethod
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import Protocol

from relaygate.routing.deployments import Deployment
from relaygate.routing.settings import Strategy

TokenEstimate = Callable[[], tuple[int, int]]
"""The call's (input, output) tokens, estimated on demand (the `cost` strategy)."""


class Picker(Protocol):
    def order(self, deployments: Sequence[Deployment], tokens: TokenEstimate) -> list[int]:
        """Indexes into `deployments`, the preferred first."""


def _rest(first: int, count: int) -> list[int]:
    """`first`, then the others in their order after it (a rotation)."""
    return [(first + step) % count for step in range(count)]


class Rotation(ABC):
    """A strategy that picks the first deployment; failover goes round the group from it."""

    @abstractmethod
    def first(self, deployments: Sequence[Deployment]) -> int:
        """The index of the preferred deployment."""

    def order(self, deployments: Sequence[Deployment], tokens: TokenEstimate) -> list[int]:
        return _rest(self.first(deployments), len(deployments))


class Weighted(Rotation):
    """Random by weight; failover in the rotation after the one drawn."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._random = rng or random.Random()
        self._weighed: Sequence[Deployment] | None = None  # the group the sums are of
        self._sums: list[float] = []  # running totals of the weights

    def first(self, deployments: Sequence[Deployment]) -> int:
        if deployments is not self._weighed:  # a group's weights are fixed: summed once
            self._sums = list(itertools.accumulate(item.weight for item in deployments))
            self._weighed = deployments
        sums = self._sums
        count = len(sums)
        total = sums[-1]
        if total <= 0:
            return self._random.randrange(count)
        # the first whose running total passes the point drawn (the last, if rounding passed it)
        index = bisect_right(sums, self._random.random() * total)
        return index if index < count else count - 1


class RoundRobin(Rotation):
    """Each call starts at the next deployment."""

    def __init__(self) -> None:
        self._next = itertools.count()

    def first(self, deployments: Sequence[Deployment]) -> int:
        return next(self._next) % len(deployments)


class LeastBusy:
    """Fewest calls in flight first (ties: round robin)."""

    def __init__(self) -> None:
        self._tie = itertools.count()

    def order(self, deployments: Sequence[Deployment], tokens: TokenEstimate) -> list[int]:
        count = len(deployments)
        start = next(self._tie) % count
        rotation = _rest(start, count)
        return sorted(rotation, key=lambda index: deployments[index].in_flight)


class Latency:
    """Lowest moving average first; one call in `exploration` goes elsewhere at random so that
    a recovered (or not yet measured) deployment is measured again."""

    def __init__(self, exploration: float = 0.05, rng: random.Random | None = None) -> None:
        self._exploration = exploration
        self._random = rng or random.Random()

    def order(self, deployments: Sequence[Deployment], tokens: TokenEstimate) -> list[int]:
        count = len(deployments)
        unmeasured = [index for index, item in enumerate(deployments) if item.latency_s is None]
        ranked = sorted(
            (index for index in range(count) if deployments[index].latency_s is not None),
            key=lambda index: deployments[index].latency_s or 0.0,
        )
        order = unmeasured + ranked
        if count > 1 and self._random.random() < self._exploration:
            chosen = order.pop(self._random.randrange(1, count))
            order.insert(0, chosen)
        return order


class Cost:
    """Cheapest for the call's estimated tokens first; deployments without prices last."""

    def order(self, deployments: Sequence[Deployment], tokens: TokenEstimate) -> list[int]:
        input_tokens, output_tokens = tokens()

        def price(index: int) -> float:
            route = deployments[index].route
            if route.input_price_per_mtok is None and route.output_price_per_mtok is None:
                return float("inf")
            return (
                input_tokens * (route.input_price_per_mtok or 0.0)
                + output_tokens * (route.output_price_per_mtok or 0.0)
            ) / 1_000_000 + (route.request_price_usd or 0.0)

        return sorted(range(len(deployments)), key=price)


class Usage:
    """The most room under its own rpm/tpm first (ties: round robin); over-limit ones last."""

    def __init__(self) -> None:
        self._tie = itertools.count()

    def order(self, deployments: Sequence[Deployment], tokens: TokenEstimate) -> list[int]:
        now = time.monotonic()
        count = len(deployments)
        rotation = _rest(next(self._tie) % count, count)
        return sorted(rotation, key=lambda index: deployments[index].headroom(now))


def picker_for(strategy: Strategy, exploration: float | None = None) -> Picker:
    """A new picker (each group keeps its own state: its rotation, its random stream)."""
    if strategy is Strategy.ROUND_ROBIN:
        return RoundRobin()
    if strategy is Strategy.LEAST_BUSY:
        return LeastBusy()
    if strategy is Strategy.LATENCY:
        return Latency(0.05 if exploration is None else exploration)
    if strategy is Strategy.COST:
        return Cost()
    if strategy is Strategy.USAGE:
        return Usage()
    return Weighted()
