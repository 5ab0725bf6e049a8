"""Running a named agent: every run is a session (created for it, tagged with the agent's
name), and its input is that session's first turn, so history, usage and cost are where
sessions keep them and its events stream (and resume) as a session's do."""

from __future__ import annotations

import uuid
from typing import Any

from relaygate.agents.named.catalog import AgentCatalog
from relaygate.agents.sessions.render import content_json, session_json
from relaygate.agents.sessions.requests import CreateSession, PostMessage
from relaygate.agents.sessions.service import SessionService
from relaygate.agents.sessions.turns import PreparedTurn
from relaygate.errors import NotFound
from relaygate.pipeline.call import Origin

AGENT_METADATA = "agent"  # the session metadata key naming the agent of a run


async def prepare_run(
    catalog: AgentCatalog, sessions: SessionService, origin: Origin, name: str,
    content: str | list[Any], *, stream: bool,
) -> PreparedTurn:
    """A new session for one run of agent `name`, and its first turn, checked."""
    principal = origin.principal
    spec = await catalog.get(name, principal.tenant)
    created = CreateSession(
        model=spec.model,
        system=spec.instructions,
        tools=list(spec.tools),
        ttl_seconds=spec.ttl_seconds,
        max_output_tokens=spec.max_output_tokens,
        metadata={AGENT_METADATA: name},
    )
    row = await sessions.create(principal.tenant, created, principal=principal,
                                session_id=_run_id())
    return await sessions.prepare(origin, row.id, PostMessage(content=content, stream=stream))


def _run_id() -> str:
    return f"sess_{uuid.uuid4().hex}"


async def run_json(sessions: SessionService, tenant: str, run_id: str) -> dict[str, Any]:
    """A run as the API shows it: its status, output (the last assistant message) and usage."""
    row = await sessions.get(tenant, run_id, touch=False)
    agent = row.metadata_.get(AGENT_METADATA)
    if agent is None:
        raise NotFound(f"No agent run with id {run_id!r}.", param="id", code="run_not_found")
    messages, _ = await sessions.history(tenant, run_id, after=0, limit=1000, descending=False)
    replies = [item for item in messages if item.role == "assistant"]
    session = session_json(row)
    return {
        "id": row.id,
        "object": "agent.run",
        "agent": agent,
        "session_id": row.id,
        "status": "completed" if replies else "in_progress",
        "output": content_json(replies[-1].content) if replies else None,
        "usage": session["usage"],
        "created_at": session["created_at"],
        "events": f"/api/sessions/{row.id}/stream",
    }
