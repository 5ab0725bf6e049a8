"""A tool: a name, a description, a JSON schema, an async function, a timeout, flags."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from relaygate.agents.sandbox.runner import Sandbox
from relaygate.agents.tools.workspace import Workspace
from relaygate.types import ToolSpec

EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


@dataclass(frozen=True, slots=True)
class ToolContext:
    """What a running tool may use: who asked, their workspace, the sandbox."""

    tenant: str
    workspace: Workspace
    sandbox: Sandbox
    key_name: str | None = None
    session_id: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)  # the session's context variables


ToolFunction = Callable[[dict[str, Any], ToolContext], Awaitable[Any]]


@dataclass(slots=True)
class Tool:
    name: str
    description: str
    function: ToolFunction
    parameters: dict[str, Any] = field(default_factory=lambda: dict(EMPTY_SCHEMA))
    timeout: float | None = None  # None: tools.default_timeout_seconds
    dangerous: bool = False  # denied unless a policy names it
    sandboxed: bool = False  # runs its work in the sandbox
    source: str = "builtin"  # builtin | custom | mcp:<server>
    tenant: str | None = None  # set for a tenant's imported MCP tools: only they see it
    needs: str | None = None  # denied wherever the tool of this name is (delete_file: write_file)

    def spec(self) -> ToolSpec:
        """The tool as offered to a model."""
        return ToolSpec(self.name, self.description, self.parameters)

    def public(self) -> dict[str, Any]:
        """The tool as listed by `GET /api/tools`."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}
