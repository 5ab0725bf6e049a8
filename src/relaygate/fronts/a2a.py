"""The named agents as A2A agents (authenticated by the gateway's keys, like every route):

    GET  /.well-known/agent-card.json           the directory: the caller's tenant's agents
    GET  /a2a/{name}/.well-known/agent-card.json  one agent's card
    POST /a2a/{name}                            JSON-RPC: message/send, message/stream,
                                                tasks/get, tasks/cancel (and the 1.0 names)

A missing or wrong key is a 401 and an unknown agent (or another tenant's) a 404, both in
the OpenAI error shape before the A2A layer sees the request; errors inside a call are
JSON-RPC errors from the SDK."""

from __future__ import annotations

from a2a.server.request_handlers.response_helpers import agent_card_to_dict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message

from relaygate.a2a.cards import agent_card, directory_card
from relaygate.fronts.common import authenticate, context_of, gateway_of, read_body
from relaygate.pipeline.call import Endpoint, Origin


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def directory(request: Request) -> Response:
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    agents = await (await gateway.agents()).agents.all(principal.tenant)
    return JSONResponse(agent_card_to_dict(directory_card(_base_url(request), agents)))


async def card(request: Request) -> Response:
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    name = request.path_params["name"]
    spec = await (await gateway.agents()).agents.get(name, principal.tenant)
    return JSONResponse(agent_card_to_dict(agent_card(_base_url(request), name, spec)))


async def rpc(request: Request) -> Response:
    gateway = gateway_of(request)
    context = context_of(request)
    principal = await authenticate(request, gateway, context)
    services = await gateway.agents()
    name = request.path_params["name"]
    await services.agents.get(name, principal.tenant)  # 404 before any JSON-RPC
    body = await read_body(request, gateway.settings.server.max_body_bytes)  # 413 past it

    replayed = False

    async def replay() -> Message:
        """The body read above, once; then the connection's own messages (a disconnect)."""
        nonlocal replayed
        if replayed:
            return await request.receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    origin = Origin(principal, context.request_id, Endpoint.SESSION, context)
    server = await services.a2a.server()
    return await server.handle(Request(request.scope, replay), origin, name)
