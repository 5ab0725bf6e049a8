"""Talk to one remote MCP server over Streamable HTTP (headers carry its auth)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx2
import mcp_types
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from relaygate.config import McpServerSettings
from relaygate.observability.tracing.current import span, trace_headers

MAX_PAGES = 50
_FAILURES = (ExceptionGroup, MCPError, httpx2.HTTPError, OSError, TimeoutError)


class McpServerError(Exception):
    """The remote MCP server could not be reached, or failed the request."""


def _leaf(error: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups from the SDK's task groups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _failure(server: McpServerSettings, error: BaseException) -> McpServerError:
    leaf = _leaf(error)
    return McpServerError(f"MCP server {server.name!r}: {type(leaf).__name__}: {leaf}")


@asynccontextmanager
async def connect(server: McpServerSettings) -> AsyncIterator[Client]:
    """An MCP client session with `server`, closed on exit."""
    timeout = httpx2.Timeout(server.timeout_seconds)
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(
            create_mcp_http_client(headers={**server.headers, **trace_headers()},
                                   timeout=timeout)
        )
        transport = streamable_http_client(server.url, http_client=http)
        client = await stack.enter_async_context(
            Client(transport, read_timeout_seconds=server.timeout_seconds, cache=None)
        )
        yield client


async def list_remote_tools(server: McpServerSettings) -> list[mcp_types.Tool]:
    """Every tool the server lists (following pagination); McpServerError when it fails."""
    tools: list[mcp_types.Tool] = []
    try:
        async with connect(server) as client:
            cursor: str | None = None
            for _ in range(MAX_PAGES):
                page = await client.list_tools(cursor=cursor)
                tools.extend(page.tools)
                cursor = page.next_cursor
                if cursor is None:
                    break
    except _FAILURES as exc:
        raise _failure(server, exc) from exc
    return tools


async def call_remote_tool(
    server: McpServerSettings, name: str, arguments: dict[str, Any]
) -> mcp_types.CallToolResult:
    """Call one tool; McpServerError when the server cannot be reached or fails."""
    with span(f"tools/call {name}", {"mcp.method.name": "tools/call", "gen_ai.tool.name": name,
                                     "server.address": server.url}, kind="client"):
        try:
            async with connect(server) as client:  # carries this span's traceparent
                return await client.call_tool(name, arguments)
        except _FAILURES as exc:
            raise _failure(server, exc) from exc
