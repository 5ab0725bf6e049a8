"""WebSocket mode on `/v1/responses`: the client sends `{"type": "response.create", ...}`
(the create body) and receives the same events as SSE, one JSON text frame each. Every
response streams here: `stream` and `stream_options` are accepted and ignored (the OpenAI
Agents SDK sends `stream: true` in every frame), `background: true` is refused. Turns run
one at a time per connection; `generate: false` makes a response without calling the model
(a warm-up to chain from).

Continuation by `previous_response_id` reads a connection-local cache first (this is
what makes `store: false` chains work), then the store. An unknown id answers
`previous_response_not_found`; a `function_call_output` must answer a call the chain made.
A failed turn evicts the id it continued from, so a client never continues from state the
gateway no longer trusts. A client that goes away mid-turn stops it; a stored response
keeps its output as `incomplete`, as over HTTP.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from relaygate.errors import GatewayError, InvalidRequest
from relaygate.fronts.responses.context import (
    chain_before,
    check_call_outputs,
    response_store,
)
from relaygate.fronts.responses.create import streamed
from relaygate.fronts.responses.engine import ResponseRun, new_state, prepare
from relaygate.pipeline.auth import Principal
from relaygate.pipeline.call import Endpoint, Origin
from relaygate.prompts.responses import responses_prompt
from relaygate.services import Gateway
from relaygate.store.responses import Item
from relaygate.translate.responses.request import parse_request
from relaygate.translate.responses.response import Status
from relaygate.types import StreamEvent

CACHE_SIZE = 16  # responses remembered per connection


def error_event(error: GatewayError) -> dict[str, Any]:
    """The spec's `WebSocketErrorEvent`."""
    return {
        "type": "error",
        "status": error.status,
        "error": {
            "type": error.type,
            "code": error.code or error.type,
            "message": error.message,
            "param": error.param,
        },
    }


async def _nothing() -> AsyncIterator[StreamEvent]:
    return
    yield


class _Connection:
    def __init__(self, websocket: WebSocket, gateway: Gateway, principal: Principal) -> None:
        self.websocket = websocket
        self.gateway = gateway
        self.principal = principal
        self.cache: OrderedDict[str, list[Item]] = OrderedDict()

    async def send(self, payload: dict[str, Any]) -> None:
        await self.websocket.send_text(orjson.dumps(payload).decode())

    def remember(self, response_id: str, items: list[Item]) -> None:
        self.cache[response_id] = items
        while len(self.cache) > CACHE_SIZE:
            self.cache.popitem(last=False)

    async def prior(self, previous: str | None) -> list[Item]:
        cached = self.cache.get(previous) if previous is not None else None
        if cached is not None:
            return cached
        store = await response_store(self.gateway)
        return await chain_before(store, self.principal.tenant, previous)

    async def turn(self, text: str) -> None:
        previous: str | None = None
        try:
            message = orjson.loads(text)
            if not isinstance(message, dict) or message.get("type") != "response.create":
                raise InvalidRequest(
                    "Expected a JSON object with type 'response.create'.", param="type"
                )
            generate = message.get("generate", True)
            body = {k: v for k, v in message.items() if k not in ("type", "generate")}
            request_id = f"req_{uuid.uuid4().hex}"
            prompt = await responses_prompt(self.gateway, body, self.principal, request_id)
            parsed = parse_request(body)
            if parsed.options.background:
                raise InvalidRequest(
                    "'background' is not available over WebSocket: a response runs while "
                    "its connection is open.",
                    param="background",
                )
            previous = parsed.options.previous_response_id
            prior = await self.prior(previous)
            prepared = await prepare(
                self.gateway, self.principal.tenant, parsed, stream=True, prior=prior,
                principal=self.principal,
            )
            check_call_outputs(prepared.prior, prepared.input_items)
            origin = Origin(self.principal, request_id, Endpoint.RESPONSES, prompt=prompt,
                            cacheable=self.gateway.cache is not None)
            run = ResponseRun(self.gateway, origin, prepared, new_state(prepared))
            # `generate: false` warms up state: a response with no output to chain from
            canonical = await run.open_stream() if generate is not False else _nothing()
            async with aclosing(streamed(run, canonical)) as events:
                async for event in events:  # a client gone mid-turn leaves it incomplete
                    await self.send(event)
        except orjson.JSONDecodeError:
            await self.send(error_event(InvalidRequest("The message is not valid JSON.",
                                                       code="invalid_json")))
            return
        except GatewayError as error:
            if previous is not None:
                self.cache.pop(previous, None)
            await self.send(error_event(error))
            return
        if run.state.status in (Status.COMPLETED, Status.INCOMPLETE):
            self.remember(run.state.id, run.context_items)
        elif previous is not None:
            self.cache.pop(previous, None)


async def responses_socket(websocket: WebSocket) -> None:
    gateway: Gateway = websocket.app.state.gateway
    await websocket.accept()
    try:
        principal = await gateway.authenticate(
            websocket.headers, websocket.query_params.get("key"), websocket.url.path, "GET"
        )
    except GatewayError as error:
        await websocket.send_text(orjson.dumps(error_event(error)).decode())
        await websocket.close(1008, "authentication failed")
        return
    connection = _Connection(websocket, gateway, principal)
    try:
        while True:
            await connection.turn(await websocket.receive_text())
    except WebSocketDisconnect:
        return
