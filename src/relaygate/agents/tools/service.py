"""`ToolService`: the registry, policies, sandbox, workspaces and metrics, built once.

`resolve` answers "may this caller use this tool?"; `execute` runs one call with the
argument check, the timeout and the metrics; `toolbox` binds a caller and a session
for the agent loop. Workspaces share one size quota; `start` begins the sweep of stale
ones, and a session's is removed with the session (`remove_workspace`).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from relaygate.agents.sandbox.runner import Sandbox
from relaygate.agents.sweeper import Sweeper
from relaygate.agents.tools.base import Tool, ToolContext
from relaygate.agents.tools.cleanup import remove_stale
from relaygate.agents.tools.disk import remove_tree
from relaygate.agents.tools.errors import (
    ToolArgumentsInvalid,
    ToolDenied,
    ToolFailed,
    ToolNotFound,
    ToolTimedOut,
)
from relaygate.agents.tools.metrics import ToolMetrics, ToolOutcomeKind
from relaygate.agents.tools.policy import ToolPolicies
from relaygate.agents.tools.quota import WorkspaceQuota
from relaygate.agents.tools.registry import ToolRegistry
from relaygate.agents.tools.validation import validate_arguments
from relaygate.agents.tools.workspace import Workspace, safe_segment
from relaygate.config import ToolsSettings
from relaygate.errors import GatewayError
from relaygate.observability.logging import get_logger
from relaygate.pipeline.auth import Principal
from relaygate.types import ToolCall

if TYPE_CHECKING:  # the MCP SDK is loaded only when MCP servers are configured
    from relaygate.agents.mcp.importer import McpImports

_log = get_logger("relaygate.tools")
SHARED_WORKSPACE = "shared"  # direct invocations and MCP calls without a session


class ToolGuard(Protocol):
    """Checks a hosted tool call's arguments before it runs and its result before the model
    reads it: the text to go on with, or a GatewayError (the model gets a tool error)."""

    def arguments(self, principal: Principal, call: ToolCall) -> str: ...

    def result(self, principal: Principal, call: ToolCall, text: str) -> str: ...


class ToolService:
    def __init__(
        self,
        settings: ToolsSettings,
        registry: ToolRegistry,
        sandbox: Sandbox,
        metrics: ToolMetrics,
        imports: McpImports | None = None,
    ) -> None:
        self.settings = settings
        self.imports = imports
        self.registry = registry
        self.sandbox = sandbox
        self.metrics = metrics
        self.policies = ToolPolicies(settings)
        self.guard: ToolGuard | None = None  # the guardrails on tool_args / tool_results
        root = settings.workspace_root or str(Path(tempfile.gettempdir()) / "relaygate-workspaces")
        self.workspace_root = Path(root)
        self.quota = WorkspaceQuota(settings.workspace_max_bytes, settings.workspace_max_files)
        self.sweeper = Sweeper(
            "stale workspaces", self.sweep_workspaces, settings.workspace_sweep_interval_seconds
        )

    def start(self) -> None:
        """Start sweeping stale workspaces (unless `workspace_ttl_seconds` is 0)."""
        if self.settings.workspace_ttl_seconds > 0:
            self.sweeper.start()

    async def close(self) -> None:
        """Stop the workspace sweep and retrying MCP servers that were down."""
        await self.sweeper.stop()
        if self.imports is not None:
            await self.imports.close()

    def visible(self, principal: Principal) -> list[Tool]:
        """The tools this caller may use, by name."""
        return [
            tool
            for tool in self.registry.for_tenant(principal.tenant)
            if self.policies.allows(principal, tool)
        ]

    def resolve(self, principal: Principal, name: str) -> Tool:
        """The tool, or 404 (unknown) / 403 (denied by policy)."""
        tool = self.registry.get(name, principal.tenant)
        if tool is None or (tool.tenant is not None and tool.tenant != principal.tenant):
            raise ToolNotFound(f"No tool named {name!r}.", param="name")
        if not self.policies.allows(principal, tool):
            self.metrics.record(name, ToolOutcomeKind.DENIED)
            raise ToolDenied(self.policies.reason(principal, tool))
        return tool

    def workspace(self, principal: Principal, session_id: str | None = None) -> Workspace:
        path = self.workspace_path(principal.tenant, session_id)
        return Workspace(path, self.settings.max_file_bytes, self.sandbox.run_as, self.quota)

    def workspace_path(self, tenant: str, session_id: str | None = None) -> Path:
        path = self.workspace_root / safe_segment(tenant)
        return path / safe_segment(session_id or SHARED_WORKSPACE)

    async def remove_workspace(self, tenant: str, session_id: str) -> None:
        """Remove a session's workspace, if it has one (in a worker thread); a failure is
        logged, not raised: the session is gone either way."""
        path = self.workspace_path(tenant, session_id)
        try:
            await asyncio.to_thread(remove_tree, path)
        except OSError as exc:
            _log.warning(
                "cannot remove a session's workspace", session_id=session_id, error=str(exc)
            )
        self.quota.forget(path)

    async def sweep_workspaces(self) -> int:
        """Remove the workspaces unchanged for `workspace_ttl_seconds`; how many."""
        cutoff = time.time() - self.settings.workspace_ttl_seconds
        removed = await asyncio.to_thread(remove_stale, self.workspace_root, cutoff)
        for path in removed:
            self.quota.forget(path)
        return len(removed)

    def context(self, principal: Principal, session_id: str | None = None) -> ToolContext:
        return ToolContext(
            tenant=principal.tenant,
            workspace=self.workspace(principal, session_id),
            sandbox=self.sandbox,
            key_name=principal.key_name,
            session_id=session_id,
        )

    async def execute(self, tool: Tool, arguments: dict[str, Any], context: ToolContext) -> Any:
        """Check the arguments, run the tool under its timeout, record the metrics.

        Raises ToolArgumentsInvalid, ToolTimedOut, ToolFailed (or another GatewayError
        such as SandboxUnavailable); anything else a tool raises (a built-in, a plug-in,
        a pluggable backend's HTTP error) becomes ToolFailed, logged, for the model.
        """
        try:
            validate_arguments(tool.parameters, arguments)
        except ToolArgumentsInvalid:
            self.metrics.record(tool.name, ToolOutcomeKind.INVALID)
            raise
        limit = tool.timeout if tool.timeout is not None else self.settings.default_timeout_seconds
        started = time.perf_counter()
        outcome = ToolOutcomeKind.FAILED
        try:
            value = await asyncio.wait_for(tool.function(arguments, context), limit)
            outcome = ToolOutcomeKind.OK
            return value
        except TimeoutError:
            outcome = ToolOutcomeKind.TIMEOUT
            raise ToolTimedOut(
                f"The tool {tool.name!r} did not finish within {limit:g} seconds."
            ) from None
        except GatewayError:
            raise
        except Exception as exc:  # this is the boundary where a tool's failure becomes data
            _log.warning("tool failed", tool=tool.name, error=type(exc).__name__)
            raise ToolFailed(f"The tool {tool.name!r} failed: {exc}") from exc
        finally:
            self.metrics.record(tool.name, outcome, time.perf_counter() - started)

    async def invoke(
        self,
        principal: Principal,
        name: str,
        arguments: dict[str, Any],
        session_id: str | None = None,
    ) -> Any:
        """Resolve under policy and execute: the direct `POST /api/tools/{name}/invoke` path."""
        tool = self.resolve(principal, name)
        return await self.execute(tool, arguments, self.context(principal, session_id))
