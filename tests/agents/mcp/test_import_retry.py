"""A remote MCP server that is down at start-up is retried until its tools arrive."""

from __future__ import annotations

import asyncio

from relaygate.agents.mcp.importer import McpImports
from relaygate.agents.tools.registry import ToolRegistry
from relaygate.config import McpServerSettings
from tests.agents.mcp.remote import TOKEN, TOOLS, RemoteMcpApp
from tests.support.servers import ThreadedServer, free_port


async def test_down_server_is_imported_once_it_answers() -> None:
    port = free_port()
    server = McpServerSettings(
        name="late",
        url=f"http://127.0.0.1:{port}/mcp",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout_seconds=2,
    )
    registry = ToolRegistry()
    imports = McpImports(registry, {"acme": [server]}, retry_seconds=0.2)
    await imports.start()
    try:
        assert imports.pending == ["acme/late"] and len(registry) == 0
        with ThreadedServer(RemoteMcpApp(), port=port):
            for _ in range(100):
                if not imports.pending:
                    break
                await asyncio.sleep(0.1)
        assert imports.pending == []
        assert [tool.name for tool in registry.for_tenant("acme")] == ["late_add", "late_search"]
        assert registry.for_tenant("beta") == []
    finally:
        await imports.close()


async def test_imported_tools_follow_the_server() -> None:
    """Listed again every refresh_seconds: a tool the server drops goes; while the server
    is down, the tools it had stay."""
    remote = RemoteMcpApp()
    registry = ToolRegistry()

    def names() -> list[str]:
        return [tool.name for tool in registry.for_tenant("acme")]

    served = ThreadedServer(remote)
    server = McpServerSettings(
        name="docs",
        url=f"{served.base_url}/mcp",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout_seconds=2,
        refresh_seconds=0.2,
    )
    imports = McpImports(registry, {"acme": [server]})
    try:
        with served:
            await imports.start()
            assert names() == ["docs_add", "docs_search"]
            remote.tools = [TOOLS[1]]  # "search" dropped
            for _ in range(50):
                if names() == ["docs_add"]:
                    break
                await asyncio.sleep(0.1)
            assert names() == ["docs_add"]
        await asyncio.sleep(0.7)  # a few refreshes against a server that is gone
        assert names() == ["docs_add"]
    finally:
        await imports.close()
