"""`RunLimits`: the limits every turn of a run's session runs under (a named agent's
`max_steps`, `max_seconds` and `budget.max_usd`), kept in the session's metadata, written
when the run is created (`SessionService.create(limits=...)`; a client's own session may
not name those keys). So they hold for the run's first turn and for any message posted to
it later, from any front and on any instance. The session service reads them where it
prepares a turn (turns.py). The cost limit counts the run's whole spend: every turn of its
session and of the runs below it (sessions whose `parent_run` names it, all the way down)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

AGENT_METADATA = "agent"  # the session metadata key naming the agent of a run
PARENT_METADATA = "parent_run"  # the run that delegated to this one
MAX_STEPS_METADATA = "run_max_steps"
MAX_SECONDS_METADATA = "run_max_seconds"
MAX_USD_METADATA = "run_max_usd"
RESERVED_METADATA = (MAX_STEPS_METADATA, MAX_SECONDS_METADATA, MAX_USD_METADATA)
"""Set only by the gateway (`SessionService.create(limits=...)`): a client's own session
may not raise the gateway's loop limits by naming them."""


@dataclass(frozen=True, slots=True)
class RunLimits:
    max_steps: int | None = None  # the agent loop's model steps, each turn
    max_seconds: float | None = None  # the agent loop's time, each turn
    max_usd: float | None = None  # the run's cost, all its turns and runs below it

    @classmethod
    def of(cls, metadata: Mapping[str, str]) -> RunLimits:
        """The limits a session's metadata records (a value that does not parse: none)."""
        steps = metadata.get(MAX_STEPS_METADATA, "")
        return cls(
            int(steps) if steps.isdigit() and int(steps) > 0 else None,
            _positive(metadata.get(MAX_SECONDS_METADATA)),
            _positive(metadata.get(MAX_USD_METADATA)),
        )

    def metadata(self) -> dict[str, str]:
        """The session metadata recording these limits (only those that are set)."""
        meta = {}
        if self.max_steps is not None:
            meta[MAX_STEPS_METADATA] = str(self.max_steps)
        if self.max_seconds is not None:
            meta[MAX_SECONDS_METADATA] = repr(self.max_seconds)
        if self.max_usd is not None:
            meta[MAX_USD_METADATA] = repr(self.max_usd)
        return meta


def run_name(metadata: Mapping[str, str]) -> str:
    """How a cost refusal names the run: 'run of agent <name>', or 'session run'."""
    agent = metadata.get(AGENT_METADATA)
    return "session run" if agent is None else f"run of agent {agent!r}"


def _positive(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) and number > 0 else None
