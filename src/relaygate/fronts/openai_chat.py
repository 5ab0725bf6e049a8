"""`POST /v1/chat/completions`: the OpenAI Chat Completions front.

Read top to bottom in the order a request runs: authenticate, read the body, resolve
the model, then either relay bytes (fast path) or translate through the canonical call.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from relaygate.errors import GatewayError
from relaygate.fronts.common import first_of, model_request
from relaygate.fronts.openai_chat_relay import (
    UsageSniffer,
    estimated_reply,
    relay_stream_bytes,
    reply_usage,
    stream_estimator,
)
from relaygate.fronts.usage import source_header
from relaygate.pipeline.context import RequestContext
from relaygate.providers.base import RawRelay, WireFormat
from relaygate.services import Gateway
from relaygate.streaming.sse import DONE, data_frame
from relaygate.translate.openai_chat import wire
from relaygate.translate.openai_chat.request import decode_request
from relaygate.translate.openai_chat.response import decode_usage, encode_result
from relaygate.translate.openai_chat.stream import ChunkEncoder
from relaygate.translate.validation import validate_wire
from relaygate.types import ErrorEvent, StreamEvent, UsageEvent

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def chat_completions(request: Request) -> Response:
    prologue = await model_request(request)
    gateway, context, route = prologue.gateway, prologue.context, prologue.route
    body = prologue.body
    provider = route.provider
    # an attribute test, not isinstance(provider, RawRelay): a protocol check costs ~9 µs
    if (
        gateway.settings.server.fast_path
        and getattr(provider, "relay_format", None) is WireFormat.OPENAI_CHAT
    ):
        relay = cast(RawRelay, provider)
        return await _relay(
            request, gateway, context, relay, prologue.raw, body, route.upstream_model
        )

    call = decode_request(body)
    if not call.stream:
        result = await provider.send(call, route.upstream_model)
        context.usage = result.usage
        return Response(
            orjson.dumps(encode_result(result)),
            media_type="application/json",
            headers=source_header(result.usage),
        )
    events = provider.stream(call, route.upstream_model)
    first = await first_of(events, route.provider.name)
    encoder = ChunkEncoder(
        f"chatcmpl-{uuid.uuid4().hex[:24]}",
        route.upstream_model,
        int(time.time()),
        call.include_usage,
    )
    return StreamingResponse(
        _encode_stream(first, events, encoder, gateway, context),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )


async def _relay(
    request: Request,
    gateway: Gateway,
    context: RequestContext,
    provider: RawRelay,
    raw: bytes,
    body: dict[str, Any],
    upstream_model: str,
) -> Response:
    """The fast path: validate, rewrite the model name if needed, pass the bytes through."""
    validate_wire(wire.ChatRequest, body, wire.MESSAGE_TAGS)
    context.fast_path = True
    stream = body.get("stream") is True
    client_wants_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    if body["model"] != upstream_model or (stream and not client_wants_usage):
        body["model"] = upstream_model
        if stream:
            body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
        raw = orjson.dumps(body)
    if not stream:
        reply = await provider.relay(raw, context.request_id)
        usage = reply_usage(reply.body, context.provider)
        content = reply.body
        if usage is not None:
            context.usage = decode_usage(usage)
        else:
            context.usage, content = estimated_reply(
                content, body, upstream_model, context.provider
            )
        headers = source_header(context.usage)
        return Response(content, media_type=reply.content_type, headers=headers)
    chunks = provider.relay_stream(raw, context.request_id)
    first = await first_of(chunks, context.provider)
    sniffer = UsageSniffer(context, client_wants_usage, stream_estimator(body, upstream_model))
    return StreamingResponse(
        _until_drained(relay_stream_bytes(chunks, first, sniffer, context), gateway),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )


async def _encode_stream(
    first: StreamEvent,
    events: AsyncIterator[StreamEvent],
    encoder: ChunkEncoder,
    gateway: Gateway,
    context: RequestContext,
) -> AsyncIterator[bytes]:
    """Canonical events → SSE chunks; an error mid-stream is the last chunk, then [DONE]."""
    event: StreamEvent | None = first
    try:
        while event is not None:
            if isinstance(event, ErrorEvent):
                yield _error_frame(event.message, event.type, context)
                break
            if isinstance(event, UsageEvent):
                context.usage = event.usage
            for chunk in encoder.encode(event):
                yield data_frame(chunk)
            if gateway.draining.is_set():
                yield _error_frame("The gateway is shutting down.", "server_shutdown", context)
                break
            event = await anext(events, None)
        else:
            for chunk in encoder.close():
                yield data_frame(chunk)
    except GatewayError as error:
        yield _error_frame(error.message, error.type, context)
    yield DONE


async def _until_drained(chunks: AsyncIterator[bytes], gateway: Gateway) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield chunk
        if gateway.draining.is_set():
            yield data_frame(
                {
                    "error": {
                        "message": "The gateway is shutting down.",
                        "type": "server_shutdown",
                        "param": None,
                        "code": "server_shutdown",
                    }
                }
            )
            yield DONE
            return


def _error_frame(message: str, kind: str, context: RequestContext) -> bytes:
    context.error = kind
    return data_frame({"error": {"message": message, "type": kind, "param": None, "code": kind}})


routes = [Route("/v1/chat/completions", chat_completions, methods=["POST"])]
