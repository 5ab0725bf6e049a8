"""Import remote MCP servers' tools into the registry, per tenant, under a prefix.

Imported tools are the tenant's own (other tenants never see them) and pass through the
same policies as built-in ones; each call opens a short Streamable HTTP session, so any
gateway instance can serve it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import mcp_types

from relaygate.agents.mcp.client import McpServerError, call_remote_tool, list_remote_tools
from relaygate.agents.tools.base import Tool, ToolContext
from relaygate.agents.tools.errors import ToolFailed
from relaygate.agents.tools.registry import ToolRegistry
from relaygate.config import McpServerSettings
from relaygate.errors import UpstreamError
from relaygate.observability.logging import get_logger

_log = get_logger("relaygate.mcp")
_INVALID = re.compile(r"[^A-Za-z0-9_-]")
STARTUP_TIMEOUT = 10.0
RETRY_SECONDS = 30.0


def local_name(server: McpServerSettings, remote: str) -> str:
    prefix = server.prefix if server.prefix is not None else f"{server.name}_"
    return _INVALID.sub("_", prefix + remote)[:64]


def result_value(result: mcp_types.CallToolResult) -> Any:
    """Structured content when given, else the text parts joined; an error result raises."""
    texts = [block.text for block in result.content if isinstance(block, mcp_types.TextContent)]
    if result.is_error:
        raise ToolFailed("\n".join(texts) or "The MCP tool reported an error.")
    if result.structured_content is not None:
        return result.structured_content
    return "\n".join(texts)


def remote_tool(server: McpServerSettings, tenant: str, remote: mcp_types.Tool) -> Tool:
    remote_name = remote.name

    async def run(arguments: dict[str, Any], context: ToolContext) -> Any:
        try:
            result = await call_remote_tool(server, remote_name, arguments)
        except McpServerError as exc:
            raise UpstreamError(str(exc)) from exc
        return result_value(result)

    return Tool(
        name=local_name(server, remote_name),
        description=remote.description or remote.title or remote_name,
        function=run,
        parameters=dict(remote.input_schema) or {"type": "object", "properties": {}},
        timeout=server.timeout_seconds,
        dangerous=server.dangerous,
        source=f"mcp:{server.name}",
        tenant=tenant,
    )


async def import_server(registry: ToolRegistry, tenant: str, server: McpServerSettings) -> int:
    """List the server's tools and register them for `tenant`; returns how many."""
    remote_tools = await list_remote_tools(server)
    registry.unregister_source(f"mcp:{server.name}", tenant)
    count = 0
    for remote in remote_tools:
        try:
            registry.register(remote_tool(server, tenant, remote))
            count += 1
        except ValueError as exc:
            _log.warning(
                "skipped an MCP tool", server=server.name, tool=remote.name, reason=str(exc)
            )
    return count


Pending = list[tuple[str, McpServerSettings]]


async def _import_one(registry: ToolRegistry, tenant: str, server: McpServerSettings) -> bool:
    """Import (or list again) one server's tools; a failure is logged and keeps what the
    registry already holds from it."""
    try:
        count = await asyncio.wait_for(import_server(registry, tenant, server), STARTUP_TIMEOUT)
    except (McpServerError, TimeoutError) as exc:
        _log.warning(
            "MCP server unavailable; its tools are not (re)imported (will retry)",
            server=server.name,
            tenant=tenant,
            error=f"{type(exc).__name__}: {exc}",
        )
        return False
    _log.info("imported MCP tools", server=server.name, tenant=tenant, count=count)
    return True


async def import_all(registry: ToolRegistry, servers: Pending) -> Pending:
    """Import the servers concurrently; returns those that failed (logged, to retry later)."""
    done = await asyncio.gather(
        *(_import_one(registry, tenant, server) for tenant, server in servers)
    )
    return [pair for pair, ok in zip(servers, done, strict=True) if not ok]


def configured(servers: dict[str, list[McpServerSettings]]) -> Pending:
    return [(tenant, server) for tenant, items in servers.items() for server in items]


class McpImports:
    """Imports at start-up, then keeps every server current: one that was down is retried
    every `retry_seconds` until it answers, one that answered is listed again every
    `refresh_seconds` (its own setting), so tools it adds or drops follow."""

    def __init__(
        self,
        registry: ToolRegistry,
        servers: dict[str, list[McpServerSettings]],
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self._registry = registry
        self._servers = configured(servers)
        self._pending = list(self._servers)
        self._retry_seconds = retry_seconds
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def pending(self) -> list[str]:
        """`tenant/server` of the servers not imported yet."""
        return [f"{tenant}/{server.name}" for tenant, server in self._pending]

    async def start(self) -> None:
        self._pending = await import_all(self._registry, self._pending)
        self._tasks = [
            asyncio.create_task(self._keep_current(index))
            for index in range(len(self._servers))
        ]

    async def _keep_current(self, index: int) -> None:
        tenant, server = pair = self._servers[index]
        while True:
            imported = not any(other is pair for other in self._pending)
            if imported and server.refresh_seconds <= 0:
                return
            await asyncio.sleep(server.refresh_seconds if imported else self._retry_seconds)
            if await _import_one(self._registry, tenant, server) and not imported:
                self._pending = [other for other in self._pending if other is not pair]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
