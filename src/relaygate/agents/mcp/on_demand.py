"""Load the MCP SDK only when MCP is used.

Importing `mcp` costs about 26 MiB and 0.3 s. A gateway with no MCP servers configured
and nobody calling `/mcp` never imports it: the importer is loaded only when servers are
configured, and the `/mcp` server is built and started on its first request. The
modules that import the SDK are loaded by name here, on purpose, instead of at the top.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import TYPE_CHECKING, cast

from starlette.types import Receive, Scope, Send

from relaygate.config import McpServerSettings

if TYPE_CHECKING:
    from relaygate.agents.mcp.exporter import McpExport
    from relaygate.agents.mcp.importer import McpImports
    from relaygate.agents.tools.registry import ToolRegistry
    from relaygate.agents.tools.service import ToolService

IMPORTER = "relaygate.agents.mcp.importer"
EXPORTER = "relaygate.agents.mcp.exporter"


def load_imports(
    registry: ToolRegistry, servers: dict[str, list[McpServerSettings]]
) -> McpImports | None:
    """The importer for the configured MCP servers; None (and no SDK loaded) when none are."""
    if not any(servers.values()):
        return None
    imports_class = cast("type[McpImports]", importlib.import_module(IMPORTER).McpImports)
    return imports_class(registry, servers)


class McpExportOnDemand:
    """`/mcp`: the MCP server behind it is built on the first authenticated request."""

    def __init__(self, tools: ToolService) -> None:
        self._tools = tools
        self._export: McpExport | None = None
        self._lock = asyncio.Lock()

    @property
    def started(self) -> bool:
        return self._export is not None

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point; the caller has already been authenticated by the route."""
        export = self._export or await self._start()
        await export.handle(scope, receive, send)

    async def _start(self) -> McpExport:
        async with self._lock:  # concurrent first requests build it once
            if self._export is None:
                export_class = cast("type[McpExport]", importlib.import_module(EXPORTER).McpExport)
                export = export_class(self._tools)
                await export.start()
                self._export = export
            return self._export

    async def close(self) -> None:
        if self._export is not None:
            await self._export.close()
