"""`POST /v1/messages` and `POST /v1/messages/count_tokens`: the Anthropic Messages front.

Decode the request into a `Call`, run it through the pipeline (which relays the bytes to
an Anthropic upstream, or translates), encode what answered. Errors are rendered in
Anthropic's shape by fronts/errors.py.
"""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relaygate.errors import GatewayError
from relaygate.fronts.model_front import FrontFormat, model_call, serve
from relaygate.pipeline.call import Call, Endpoint
from relaygate.providers.base import WireFormat
from relaygate.routing.registry import Route as ModelRoute
from relaygate.tokens.estimate import estimate_prompt
from relaygate.translate.anthropic.request import decode_prompt, decode_request
from relaygate.translate.anthropic.response import encode_result
from relaygate.translate.anthropic.stream import ERROR_STATUS, EventEncoder, error_event
from relaygate.translate.error_bodies import anthropic_error_body
from relaygate.types import ErrorEvent

# client headers an Anthropic upstream should see (beta features: prompt caching variants,
# token-efficient tools, extended context…); other providers have no use for them
FORWARDED_HEADERS = ("anthropic-beta",)


class MessageFrames(EventEncoder):
    """Canonical events → Anthropic SSE; a failure ends with an `error` event."""

    def __init__(self, call: Call, route: ModelRoute) -> None:
        model_call = call.canonical()
        prompt = estimate_prompt(model_call.messages, model_call.tools, route.upstream_model)
        super().__init__(f"msg_{uuid.uuid4().hex[:24]}", call.model, prompt)

    def fail(self, error: GatewayError) -> bytes:
        return error_event(error.message, anthropic_error_body(error)["error"]["type"])

    def fail_event(self, event: ErrorEvent) -> bytes:
        """Anthropic's own error type when the upstream gave one, else one by status."""
        if event.type in ERROR_STATUS:
            return error_event(event.message, event.type)
        return self.fail(GatewayError(event.message, status=event.status))


def _request_id(call: Call) -> dict[str, str]:
    return {"request-id": call.request_id}


MESSAGES = FrontFormat(
    wire=WireFormat.ANTHROPIC,
    endpoint=Endpoint.MESSAGES,
    encode_result=encode_result,
    stream_encoder=MessageFrames,
    headers=_request_id,
)


def _forwarded(request: Request) -> dict[str, str]:
    return {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}


async def messages(request: Request) -> Response:
    gateway, call = await model_call(request, MESSAGES, decode_request)
    call.headers = _forwarded(request)
    return await serve(gateway, call, MESSAGES)


async def count_tokens(request: Request) -> Response:
    """The prompt's input tokens: the upstream's exact count when it is Anthropic, else an
    estimate calibrated per model family (relaygate.tokens)."""
    gateway, call = await model_call(request, MESSAGES, decode_prompt, stream=False)
    call.endpoint = Endpoint.COUNT_TOKENS
    call.headers = _forwarded(request)
    answer = await gateway.pipeline.run(call)
    assert answer.reply is not None
    return Response(
        answer.reply.body, media_type="application/json", headers=_request_id(call)
    )


routes = [
    Route("/v1/messages", messages, methods=["POST"]),
    Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
]
