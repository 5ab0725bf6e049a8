"""`/mcp`: the gateway's tools as an MCP server (stateless Streamable HTTP).

The caller authenticates with a gateway API key (Bearer or x-api-key), checked here
before the MCP layer sees the request; tools are then filtered by the caller's policy.
"""

from __future__ import annotations

import orjson
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from relaygate.errors import GatewayError
from relaygate.pipeline.context import RequestContext
from relaygate.services import Gateway
from relaygate.translate.error_bodies import openai_error_body


class McpEndpoint:
    """An ASGI endpoint (not a request/response function), so streaming stays with the SDK."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gateway: Gateway = scope["app"].state.gateway
        headers = Headers(scope=scope)
        try:
            principal = await gateway.authenticate(headers, None, scope["path"], scope["method"])
        except GatewayError as error:
            await _reject(send, error)
            return
        state = scope.setdefault("state", {})
        state["principal"] = principal  # the exporter's tool calls act as this caller
        context = state.get("context")
        if isinstance(context, RequestContext):  # for the request log
            context.principal = principal
        await (await gateway.agents()).mcp_export.handle(scope, receive, send)


async def _reject(send: Send, error: GatewayError) -> None:
    body = orjson.dumps(openai_error_body(error))
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
        }
    )
    await send({"type": "http.response.body", "body": body})


endpoint = McpEndpoint()
