"""`POST /v1/messages` and `POST /v1/messages/count_tokens`: the Anthropic Messages front.

Read top to bottom in the order a request runs: authenticate, read the body, resolve
the model, then either relay bytes (an Anthropic upstream) or translate through the
canonical call. Errors are rendered in Anthropic's shape by fronts/errors.py.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from relaygate.errors import GatewayError
from relaygate.fronts.anthropic_relay import estimated_reply, relay_stream_bytes, stream_estimator
from relaygate.fronts.common import first_of, model_request
from relaygate.fronts.errors import anthropic_error_body
from relaygate.fronts.openai_chat_relay import reply_usage
from relaygate.fronts.usage import source_header
from relaygate.pipeline.context import RequestContext
from relaygate.providers.anthropic import AnthropicProvider
from relaygate.services import Gateway
from relaygate.tokens.estimate import estimate_prompt
from relaygate.translate.anthropic import wire
from relaygate.translate.anthropic.encode import DEFAULT_MAX_TOKENS
from relaygate.translate.anthropic.request import decode_prompt, decode_request
from relaygate.translate.anthropic.response import decode_usage, encode_result
from relaygate.translate.anthropic.stream import ERROR_STATUS, EventEncoder, error_event
from relaygate.types import ErrorEvent, StreamEvent, UsageEvent

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# client headers an Anthropic upstream should see (beta features: prompt caching variants,
# token-efficient tools, extended context…); other providers have no use for them
FORWARDED_HEADERS = ("anthropic-beta",)


def _forwarded(request: Request) -> dict[str, str]:
    return {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}


async def messages(request: Request) -> Response:
    prologue = await model_request(request)
    gateway, context, route = prologue.gateway, prologue.context, prologue.route
    body = prologue.body
    headers = {"request-id": context.request_id}

    provider = route.provider
    if isinstance(provider, AnthropicProvider) and gateway.settings.server.fast_path:
        forwarded = _forwarded(request)
        return await _relay(
            gateway, context, provider, prologue.raw, body, route.upstream_model, forwarded
        )

    call = decode_request(body)
    if not isinstance(provider, AnthropicProvider):
        call.extra = {}  # Anthropic-only fields mean nothing to another provider's format
    if not call.stream:
        if isinstance(provider, AnthropicProvider):
            result = await provider.send(call, route.upstream_model, _forwarded(request))
        else:
            result = await provider.send(call, route.upstream_model)
        context.usage = result.usage
        return Response(
            orjson.dumps(encode_result(result)),
            media_type="application/json",
            headers={**headers, **source_header(result.usage)},
        )
    if isinstance(provider, AnthropicProvider):
        events = provider.stream(call, route.upstream_model, _forwarded(request))
    else:
        events = provider.stream(call, route.upstream_model)
    first = await first_of(events, provider.name)
    prompt = estimate_prompt(call.messages, call.tools, route.upstream_model)
    encoder = EventEncoder(f"msg_{uuid.uuid4().hex[:24]}", route.upstream_model, prompt)
    return StreamingResponse(
        _encode_stream(first, events, encoder, gateway, context),
        media_type="text/event-stream",
        headers={**SSE_HEADERS, **headers},
    )


async def _encode_stream(
    first: StreamEvent,
    events: AsyncIterator[StreamEvent],
    encoder: EventEncoder,
    gateway: Gateway,
    context: RequestContext,
) -> AsyncIterator[bytes]:
    """Canonical events → Anthropic SSE; a failure mid-stream ends with an `error` event."""
    event: StreamEvent | None = first
    try:
        for frame in encoder.start():
            yield frame
        while event is not None:
            if isinstance(event, ErrorEvent):
                context.error = event.type
                yield error_event(event.message, _error_kind(event))
                return
            if isinstance(event, UsageEvent):
                context.usage = event.usage
            for frame in encoder.encode(event):
                yield frame
            if gateway.draining.is_set():
                context.error = "server_shutdown"
                yield error_event("The gateway is shutting down.", "overloaded_error")
                return
            event = await anext(events, None)
        for frame in encoder.close():
            yield frame
    except GatewayError as error:
        context.error = error.code or error.type
        yield error_event(error.message, anthropic_error_body(error)["error"]["type"])


def _error_kind(event: ErrorEvent) -> str:
    """Anthropic's own error type when the upstream gave one, else one by status."""
    if event.type in ERROR_STATUS:
        return event.type
    kind: str = anthropic_error_body(GatewayError(event.message, status=event.status))["error"][
        "type"
    ]
    return kind


async def _relay(
    gateway: Gateway,
    context: RequestContext,
    provider: AnthropicProvider,
    raw: bytes,
    body: dict[str, Any],
    upstream_model: str,
    forwarded: dict[str, str],
) -> Response:
    """The fast path: validate, fix the model name and max_tokens if needed, pass bytes."""
    wire.validate_request(wire.MessagesRequest, body)
    context.fast_path = True
    if body["model"] != upstream_model or body.get("max_tokens") is None:
        body["model"] = upstream_model
        if body.get("max_tokens") is None:
            body["max_tokens"] = DEFAULT_MAX_TOKENS
        raw = orjson.dumps(body)
    headers = {"request-id": context.request_id}
    if body.get("stream") is not True:
        reply = await provider.relay(raw, context.request_id, forwarded)
        usage = reply_usage(reply.body, context.provider)
        content = reply.body
        if usage is not None:
            context.usage = decode_usage(usage)
        else:
            context.usage, content = estimated_reply(content, body, upstream_model, provider.name)
        headers.update(source_header(context.usage))
        return Response(content, media_type=reply.content_type, headers=headers)
    chunks = provider.relay_stream(raw, context.request_id, forwarded)
    first = await first_of(chunks, context.provider)
    estimator = stream_estimator(body, upstream_model)
    return StreamingResponse(
        _until_drained(relay_stream_bytes(chunks, first, context, estimator), gateway),
        media_type="text/event-stream",
        headers={**SSE_HEADERS, **headers},
    )


async def _until_drained(chunks: AsyncIterator[bytes], gateway: Gateway) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield chunk
        if gateway.draining.is_set():
            yield error_event("The gateway is shutting down.", "overloaded_error")
            return


async def count_tokens(request: Request) -> Response:
    """The prompt's input tokens: the upstream's exact count when it is Anthropic, else an
    estimate calibrated per model family (relaygate.tokens)."""
    prologue = await model_request(request)
    context, route, body = prologue.context, prologue.route, prologue.body
    call = decode_prompt(body)  # validates, whichever way the count is made
    provider = route.provider
    if isinstance(provider, AnthropicProvider):
        body["model"] = route.upstream_model
        count = orjson.dumps(body)
        tokens = await provider.count_tokens(count, context.request_id, _forwarded(request))
    else:
        tokens = estimate_prompt(call.messages, call.tools, route.upstream_model)
    return JSONResponse({"input_tokens": tokens}, headers={"request-id": context.request_id})


routes = [
    Route("/v1/messages", messages, methods=["POST"]),
    Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
]
