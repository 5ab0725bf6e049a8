"""A small remote MCP server for import tests: two tools, a bearer token, stateless HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import mcp_types
from mcp.server import Server, ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.types import Receive, Scope, Send

TOKEN = "docs-secret-token"

TOOLS = [
    mcp_types.Tool(
        name="search",
        description="Search the product docs.",
        input_schema={
            "type": "object",
            "properties": {"query": {"type": "string"}},
            "required": ["query"],
        },
    ),
    mcp_types.Tool(
        name="add",
        description="Add two integers.",
        input_schema={
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    ),
]


async def _call(
    context: ServerRequestContext[Any], params: mcp_types.CallToolRequestParams
) -> mcp_types.CallToolResult:
    arguments = params.arguments or {}
    if params.name == "add":
        total = arguments["a"] + arguments["b"]
        return mcp_types.CallToolResult(
            content=[mcp_types.TextContent(type="text", text=str(total))],
            structured_content={"sum": total},
        )
    if arguments.get("query") == "fail":
        return mcp_types.CallToolResult(
            content=[mcp_types.TextContent(type="text", text="the docs index is offline")],
            is_error=True,
        )
    return mcp_types.CallToolResult(
        content=[
            mcp_types.TextContent(
                type="text", text=f"Docs about {arguments.get('query')}: see chapter 3."
            )
        ]
    )


class RemoteMcpApp:
    """ASGI: checks the bearer token, then serves MCP; the manager starts on first use."""

    def __init__(self) -> None:
        self.tools = list(TOOLS)  # what tools/list answers; a test may change it

        async def list_tools(
            context: ServerRequestContext[Any], params: mcp_types.PaginatedRequestParams | None
        ) -> mcp_types.ListToolsResult:
            return mcp_types.ListToolsResult(tools=self.tools)

        self.server: Server[Any] = Server("docs", on_list_tools=list_tools, on_call_tool=_call)
        self.manager = StreamableHTTPSessionManager(self.server, stateless=True, json_response=True)
        self.requests = 0
        self.traceparents: list[str | None] = []  # each authorized request's, in order
        self._started: asyncio.Event | None = None
        self._runner: asyncio.Task[None] | None = None

    async def _run(self, started: asyncio.Event) -> None:
        async with self.manager.run():
            started.set()
            await asyncio.Event().wait()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        if headers.get(b"authorization") != f"Bearer {TOKEN}".encode():
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b"unauthorized"})
            return
        self.requests += 1
        traceparent = headers.get(b"traceparent")
        self.traceparents.append(traceparent.decode() if traceparent is not None else None)
        if self._started is None:
            self._started = asyncio.Event()
            self._runner = asyncio.create_task(self._run(self._started))
        await self._started.wait()
        await self.manager.handle_request(scope, receive, send)
