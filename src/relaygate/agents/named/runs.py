"""Running a named agent: every run is a session (created for it, tagged with the agent's
name), and its input is that session's first turn, so history, usage and cost are where
sessions keep them and its events stream (and resume) as a session's do. A delegated run
(`agent:<name>` tool) records its parent run and chain in the same metadata.

An agent's own per-run limits: `max_steps` and `max_seconds` bound its loop, `budget.max_usd`
its cost. They belong to the run, not to its first turn: they are written into the session's
metadata (sessions/run_limits.py) and the session service applies them to every turn of it,
whichever front posts the message. Each turn's origin carries a `RunCost` that starts from
what the run has spent (all its turns, the runs it delegated to included), under the one
the turn was started from (a workflow step's, a delegating parent's), so the run's spend
counts against its own limit and every limit above it."""

from __future__ import annotations

import time
import uuid
from typing import Any

from relaygate.agents.named.catalog import AgentCatalog
from relaygate.agents.named.lineage import AGENT_METADATA, PARENT_METADATA, Lineage
from relaygate.agents.sessions.render import content_json, session_json, text_of
from relaygate.agents.sessions.requests import CreateSession, PostMessage
from relaygate.agents.sessions.run_limits import RunLimits
from relaygate.agents.sessions.service import SessionService
from relaygate.agents.sessions.turns import PreparedTurn
from relaygate.errors import NotFound
from relaygate.pipeline.call import Origin
from relaygate.pipeline.run_cost import refuse_if_exhausted
from relaygate.store.sessions import SessionRow

CHILDREN_LIMIT = 100  # delegated runs listed in a run's `children`


async def prepare_run(
    catalog: AgentCatalog, sessions: SessionService, origin: Origin, name: str,
    content: str | list[Any], *, stream: bool, lineage: Lineage | None = None,
) -> PreparedTurn:
    """A new session for one run of agent `name` (its limits in its metadata), and its
    first turn, checked."""
    principal = origin.principal
    spec = await catalog.get(name, principal.tenant)
    refuse_if_exhausted(origin.cost)  # a run above this one spent its limit: nothing starts
    limits = RunLimits(spec.max_steps, spec.max_seconds,
                       spec.budget.max_usd if spec.budget is not None else None)
    created = CreateSession(
        model=spec.model,
        system=spec.instructions,
        tools=list(spec.tools),
        ttl_seconds=spec.ttl_seconds,
        max_output_tokens=spec.max_output_tokens,
        metadata={AGENT_METADATA: name, **(lineage.metadata() if lineage else {})},
    )
    row = await sessions.create(principal.tenant, created, principal=principal,
                                session_id=_run_id(), limits=limits)
    return await sessions.prepare(origin, row.id, PostMessage(content=content, stream=stream))


async def run_answer(
    catalog: AgentCatalog, sessions: SessionService, origin: Origin, name: str, text: str,
    *, lineage: Lineage | None = None,
) -> tuple[str, str]:
    """Run agent `name` on `text` to its end: (the run's id, its answer's text). A caller
    cancelled (a timed-out tool, a cancelled workflow) cancels the run's turn with it."""
    prepared = await prepare_run(catalog, sessions, origin, name, text, stream=False,
                                 lineage=lineage)
    turn = await sessions.start_turn(prepared)
    return prepared.session_id, text_of(turn.messages[-1].content)


LIMIT_STOPS = {"max_steps": "failed_max_steps", "time_budget": "failed_max_time",
               "max_cost": "failed_max_cost"}  # the loop's stop reason → the run's status
# (as a workflow run's limits end it)


LIMIT_WHY = {"max_steps": "its step limit (max_steps)",
             "time_budget": "its time limit (max_seconds)",
             "max_cost": "its cost limit (budget.max_usd)"}


def stop_reason_of(metadata: dict[str, Any]) -> str | None:
    """The agent loop's stop reason, from the metadata of a turn's last message."""
    turn = metadata.get("turn")
    loop = turn.get("agent_loop") if isinstance(turn, dict) else None
    reason = loop.get("stop_reason") if isinstance(loop, dict) else None
    return reason if isinstance(reason, str) else None


def _status(answered: bool, stop_reason: str | None) -> str:
    if not answered:
        return "in_progress"
    return LIMIT_STOPS.get(stop_reason or "", "completed")


def _run_id() -> str:
    return f"sess_{uuid.uuid4().hex}"


async def run_json(sessions: SessionService, tenant: str, run_id: str) -> dict[str, Any]:
    """A run as the API shows it: its status (`failed_max_steps`, `failed_max_time`,
    `failed_max_cost` when one of its limits stopped its loop), output (the last assistant message), usage,
    and the runs it delegated to (their usage summed, all the way down, in `total_usage`)."""
    row = await sessions.get(tenant, run_id, touch=False)
    agent = row.metadata_.get(AGENT_METADATA)
    if agent is None:
        raise NotFound(f"No agent run with id {run_id!r}.", param="id", code="run_not_found")
    messages, _ = await sessions.history(tenant, run_id, after=0, limit=1000, descending=False)
    replies = [item for item in messages if item.role == "assistant"]
    stop_reason = stop_reason_of(messages[-1].metadata_) if replies else None
    session = session_json(row)
    children = await _children(sessions, tenant, run_id)
    lineage = Lineage.of(row.metadata_)
    return {
        "id": row.id,
        "object": "agent.run",
        "agent": agent,
        "session_id": row.id,
        "status": _status(bool(replies), stop_reason),
        "stop_reason": stop_reason,
        "output": content_json(replies[-1].content) if replies else None,
        "usage": session["usage"],
        "total_usage": await _total_usage(sessions, row),
        "parent_run": lineage.parent_run,
        "depth": lineage.depth,
        "children": [child.id for child in children],
        "created_at": session["created_at"],
        "events": f"/api/sessions/{row.id}/stream",
    }


async def _children(sessions: SessionService, tenant: str, run_id: str) -> list[SessionRow]:
    rows = await sessions.repository.page(tenant, time.time(), CHILDREN_LIMIT, None, False,
                                          {PARENT_METADATA: run_id})
    return rows[:CHILDREN_LIMIT]


async def _total_usage(sessions: SessionService, row: SessionRow) -> dict[str, Any]:
    """This run's tokens and cost plus those of every run below it (one query)."""
    total = await sessions.repository.tree_usage(row.tenant, row.id, PARENT_METADATA,
                                                 time.time())
    return {"input_tokens": total.input_tokens, "output_tokens": total.output_tokens,
            "cost_usd": total.cost_usd}
