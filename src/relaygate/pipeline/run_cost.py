"""`RunCost`: what one run (a workflow run, a step of it, a named agent's run) has spent,
and its cost limit. An `Origin` carries one, and every model call made on the origin's
behalf adds its cost to it and to each run above it (a step's to its workflow run's, a
delegated child's to its parent's). The agent loop starts no model step, and a workflow
no step, once any run in the chain has reached its limit."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from relaygate.errors import RateLimited

if TYPE_CHECKING:
    from relaygate.pipeline.outcome import Outcome


class RunCost:
    """The cost spent by one run (US dollars), its limit (None: none) and the run above."""

    __slots__ = ("_reached", "limit_usd", "parent", "spent_usd", "what")

    def __init__(self, limit_usd: float | None = None, parent: RunCost | None = None, *,
                 what: str = "run", spent_usd: float = 0.0) -> None:
        self.limit_usd = limit_usd
        self.parent = parent
        self.what = what  # names the run in the refusal: "workflow run 'x'", "agent 'y'"
        self.spent_usd = spent_usd
        self._reached: asyncio.Event | None = None

    def record(self, outcome: Outcome) -> None:
        """An outcome listener: add the call's cost here and to every run above."""
        if outcome.cost_usd:
            self.add(outcome.cost_usd)

    def add(self, cost_usd: float) -> None:
        run: RunCost | None = self
        while run is not None:
            run.spent_usd += cost_usd
            if run._reached is not None and run._own_limit_reached():
                run._reached.set()
            run = run.parent

    def _own_limit_reached(self) -> bool:
        return self.limit_usd is not None and self.spent_usd >= self.limit_usd

    def exhausted(self) -> RunCost | None:
        """The first run in the chain (this one, then those above) at or over its limit."""
        run: RunCost | None = self
        while run is not None:
            if run._own_limit_reached():
                return run
            run = run.parent
        return None

    async def wait_reached(self) -> None:
        """Returns once this run's own limit is reached (never, without a limit)."""
        if self._reached is None:
            self._reached = asyncio.Event()
            if self._own_limit_reached():
                self._reached.set()
        await self._reached.wait()

    def describe(self) -> str:
        """Why nothing more may start: '<what> spent $x of its $y limit'."""
        return (f"the {self.what} has spent ${self.spent_usd:.6g} of its "
                f"${(self.limit_usd or 0.0):.6g} cost limit")


class CostLimitReached(RateLimited):
    """Nothing more starts in a run that reached its cost limit (a step, a delegated run)."""

    default_code = "run_cost_limit_reached"

    @classmethod
    def of(cls, run: RunCost) -> CostLimitReached:
        return cls(f"Not started: {run.describe()}.")


def refuse_if_exhausted(cost: RunCost | None) -> None:
    """Raise CostLimitReached when `cost` (or a run above it) is at or over its limit."""
    reached = None if cost is None else cost.exhausted()
    if reached is not None:
        raise CostLimitReached.of(reached)
