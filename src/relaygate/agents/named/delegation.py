"""Delegation: an agent calls another agent as a tool. A session's `agent:<name>` entry is
offered to the model as the tool `agent_<name>`; calling it runs that named agent as a
session of its own (a child run: parent and chain in its metadata), with the parent's
origin, so its model calls are the same key's (limits, budget, ledger). `a2a:<alias>`
calls the remote A2A agent `a2a.remotes.<alias>` (relaygate/a2a/remote.py, loaded when
first called). Depth is limited (`delegation.max_depth`) and cycles are refused; either
refusal is a tool error the model reads."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from relaygate.agents.named.catalog import AgentCatalog
from relaygate.agents.named.lineage import Lineage
from relaygate.agents.named.runs import run_answer
from relaygate.agents.named.spec import A2A_PREFIX, AGENT_PREFIX, NAME_PATTERN
from relaygate.agents.sessions.service import SessionService
from relaygate.agents.tools.base import Tool, ToolContext
from relaygate.config import A2ARemoteSettings, A2ASettings, DelegationSettings
from relaygate.errors import GatewayError, InvalidRequest, NotFound
from relaygate.lazy_import import load_with
from relaygate.pipeline.call import Origin
from relaygate.store.sessions import SessionRow

AskRemote = Callable[[A2ARemoteSettings, str, Lineage], Awaitable[str]]

INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"input": {"type": "string", "description": "What to ask the agent."}},
    "required": ["input"],
}
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _remote_ask() -> AskRemote:
    """The A2A client call; importing it imports the a2a-sdk (in load_with's thread)."""
    from relaygate.a2a.remote import ask

    return ask


def tool_name(entry: str) -> str:
    """The name a model sees for `agent:<name>` / `a2a:<alias>`: `agent_<name>` / `a2a_<alias>`."""
    kind, _, target = entry.partition(":")
    return f"{kind}_{_UNSAFE.sub('_', target)}"[:64]


class Delegates:
    """Builds one turn's delegate tools, and checks a session's delegate entries."""

    def __init__(self, settings: DelegationSettings, a2a: A2ASettings, catalog: AgentCatalog,
                 sessions: SessionService) -> None:
        self.settings = settings
        self.a2a = a2a
        self.catalog = catalog
        self.sessions = sessions

    def check(self, entries: list[str]) -> None:
        """400 for a malformed entry, 404 for an `a2a:` alias that is not configured."""
        for index, entry in enumerate(entries):
            kind, _, target = entry.partition(":")
            if not NAME_PATTERN.match(target):
                raise InvalidRequest(f"Invalid delegate {entry!r}: {kind}:<name> with a valid "
                                     "name.", param=f"tools[{index}]", code="invalid_delegate")
            if entry.startswith(A2A_PREFIX) and target not in self.a2a.remotes:
                raise NotFound(f"No remote A2A agent {target!r} (a2a.remotes).",
                               param=f"tools[{index}]", code="a2a_remote_not_found")

    async def tools(self, entries: list[str], origin: Origin, parent: SessionRow) -> list[Tool]:
        """The delegate tools of one turn of session `parent`, run on behalf of `origin`."""
        lineage = Lineage.of(parent.metadata_)
        chosen = []
        for entry in entries:
            target = entry.partition(":")[2]
            if entry.startswith(AGENT_PREFIX):
                chosen.append(await self._agent_tool(entry, target, origin, lineage, parent.id))
            elif target in self.a2a.remotes:
                chosen.append(self._remote_tool(entry, target, lineage, parent.id))
        return chosen

    async def _agent_tool(self, entry: str, name: str, origin: Origin, lineage: Lineage,
                          parent_run: str) -> Tool:
        try:
            described = (await self.catalog.get(name, origin.principal.tenant)).description
        except NotFound:
            described = None  # offered anyway: calling it says the agent is missing
        max_depth = self.settings.max_depth

        async def run(arguments: dict[str, Any], context: ToolContext) -> Any:
            child = lineage.child(name, parent_run, max_depth)
            run_id, output = await run_answer(self.catalog, self.sessions, origin, name,
                                              str(arguments["input"]), lineage=child)
            return {"agent": name, "run_id": run_id, "output": output}

        return Tool(tool_name(entry), described or f"Ask the agent {name!r}; returns its answer.",
                    run, dict(INPUT_SCHEMA), timeout=self.settings.timeout_seconds,
                    source="delegate")

    def _remote_tool(self, entry: str, alias: str, lineage: Lineage, parent_run: str) -> Tool:
        remote = self.a2a.remotes[alias]
        max_depth = self.settings.max_depth

        async def run(arguments: dict[str, Any], context: ToolContext) -> Any:
            child = lineage.child(f"{A2A_PREFIX}{alias}", parent_run, max_depth)
            ask = await load_with(_remote_ask)
            try:
                return {"agent": entry, "output": await ask(remote, str(arguments["input"]), child)}
            except GatewayError:
                raise
            except Exception as exc:  # the remote's failure is the model's tool error
                raise GatewayError(f"The remote A2A agent {alias!r} failed: {exc}",
                                   code="a2a_remote_failed", status=502) from exc

        return Tool(tool_name(entry), remote.description or f"Ask the remote agent {alias!r}.",
                    run, dict(INPUT_SCHEMA), timeout=remote.timeout_seconds, source="a2a")
