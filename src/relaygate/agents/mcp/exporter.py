"""Serve the tool registry as an MCP server at /mcp (stateless Streamable HTTP).

Each request authenticates with the gateway's own API keys and sees only the tools its
policy allows; no session state is kept, so any gateway instance can answer any request.
Built on first use by `on_demand.McpExportOnDemand`, so the SDK is loaded only when needed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import mcp_types
from mcp.server import Server, ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from relaygate import __version__
from relaygate.agents.tools.outcome import to_text
from relaygate.agents.tools.service import ToolService
from relaygate.errors import GatewayError
from relaygate.pipeline.auth import Principal

SERVER_NAME = "relaygate"


class McpExport:
    def __init__(self, tools: ToolService) -> None:
        self._tools = tools
        self.server: Server[Any] = Server(
            SERVER_NAME,
            version=__version__,
            instructions="The tools this relaygate gateway runs for your API key.",
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
        )
        self._manager = StreamableHTTPSessionManager(
            self.server, stateless=True, json_response=True
        )
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Run the SDK's session manager in a task of its own: its task group is entered
        and left there, whichever task starts or closes the export."""
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._serve(ready))
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({self._task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if self._task.done():
            self._task.result()  # raises why the manager could not start

    async def _serve(self, ready: asyncio.Event) -> None:
        async with self._manager.run():
            ready.set()
            await self._stopping.wait()

    async def close(self) -> None:
        if self._task is not None:
            self._stopping.set()
            await self._task

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point; the caller has already been authenticated by the route."""
        await self._manager.handle_request(scope, receive, send)

    def _principal(self, context: ServerRequestContext[Any]) -> Principal:
        request = context.request
        if not isinstance(request, Request):
            raise GatewayError("The MCP request carries no HTTP request to authenticate.")
        principal = request.scope.get("state", {}).get("principal")
        if not isinstance(principal, Principal):
            raise GatewayError("The MCP request was not authenticated by its route.")
        return principal

    async def _list_tools(
        self, context: ServerRequestContext[Any], params: mcp_types.PaginatedRequestParams | None
    ) -> mcp_types.ListToolsResult:
        principal = self._principal(context)
        return mcp_types.ListToolsResult(
            tools=[
                mcp_types.Tool(
                    name=tool.name, description=tool.description, input_schema=tool.parameters
                )
                for tool in self._tools.visible(principal)
            ]
        )

    async def _call_tool(
        self, context: ServerRequestContext[Any], params: mcp_types.CallToolRequestParams
    ) -> mcp_types.CallToolResult:
        principal = self._principal(context)
        try:
            value = await self._tools.invoke(principal, params.name, dict(params.arguments or {}))
        except GatewayError as error:
            return mcp_types.CallToolResult(
                content=[mcp_types.TextContent(type="text", text=error.message)], is_error=True
            )
        structured = value if isinstance(value, dict) else None
        return mcp_types.CallToolResult(
            content=[mcp_types.TextContent(type="text", text=to_text(value))],
            structured_content=structured,
        )
