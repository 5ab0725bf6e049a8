"""`POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent`: the Gemini front.

Streams are SSE with `?alt=sse`, else one JSON array written as it grows (as Gemini
does). `:countTokens` answers with our estimate. Any configured model can be named;
`GET /v1beta/models` lists them in Gemini's shape.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from relaygate.errors import GatewayError, NotFound
from relaygate.fronts.common import (
    authenticate,
    context_of,
    first_of,
    gateway_of,
    model_request,
)
from relaygate.fronts.errors import gemini_error_body
from relaygate.fronts.usage import USAGE_SOURCE_FIELD, count_reply, counted, source_header
from relaygate.pipeline.context import RequestContext
from relaygate.providers.gemini import GeminiProvider, usage_metadata
from relaygate.services import Gateway
from relaygate.streaming.sse import SSEParser, data_frame
from relaygate.tokens.estimate import estimate_prompt
from relaygate.translate.gemini.request import decode_request
from relaygate.translate.gemini.response import (
    decode_response,
    decode_usage,
    encode_result,
    encode_usage,
)
from relaygate.translate.gemini.stream import ChunkDecoder, ChunkEncoder, parse_chunk
from relaygate.types import ErrorEvent, ModelCall, StreamEvent, UsageEvent

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
ACTIONS = frozenset({"generateContent", "streamGenerateContent", "countTokens"})


def _split(model_action: str) -> tuple[str, str]:
    model, sep, action = model_action.rpartition(":")
    if not sep or not model or action not in ACTIONS:
        raise NotFound(
            f"Method not found: '{model_action}'. Use models/{{model}}:generateContent, "
            ":streamGenerateContent or :countTokens.",
            code="NOT_FOUND",
        )
    return model.removeprefix("models/"), action


async def model_action(request: Request) -> Response:
    model, action = _split(request.path_params["model_action"])  # an unknown method: 404
    prologue = await model_request(request, model)
    gateway, context, route = prologue.gateway, prologue.context, prologue.route
    body = prologue.body
    if action == "countTokens":
        return _count_tokens(body, route.upstream_model)
    stream = action == "streamGenerateContent"
    sse = request.query_params.get("alt") == "sse"
    provider = route.provider
    if gateway.settings.server.fast_path and isinstance(provider, GeminiProvider):
        context.fast_path = True
        call = decode_request(body, model, stream)  # the same validation as translating
        relay = _Relay(gateway, context, provider, route.upstream_model, call)
        return await relay.respond(prologue.raw, stream, sse)

    call = decode_request(body, route.upstream_model, stream)
    if not stream:
        result = await provider.send(call, route.upstream_model)
        context.usage = result.usage
        return Response(
            orjson.dumps(encode_result(result)),
            media_type="application/json",
            headers=source_header(result.usage),
        )
    events = provider.stream(call, route.upstream_model)
    first = await first_of(events, provider.name)
    encoder = ChunkEncoder(route.upstream_model, f"rg-{uuid.uuid4().hex[:20]}")
    chunks = _encode_stream(first, events, encoder, gateway, context)
    return _streaming(chunks, sse)


def _count_tokens(body: dict[str, Any], model: str) -> Response:
    request = body.get("generateContentRequest")
    call = decode_request(request if isinstance(request, dict) else body, model, False)
    total = estimate_prompt(call.messages, call.tools, model)
    return Response(orjson.dumps({"totalTokens": total}), media_type="application/json")


def _streaming(chunks: AsyncIterator[dict[str, Any]], sse: bool) -> StreamingResponse:
    if sse:
        return StreamingResponse(
            _as_sse(chunks), media_type="text/event-stream", headers=SSE_HEADERS
        )
    return StreamingResponse(_as_array(chunks), media_type="application/json")


async def _as_sse(chunks: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield b"data: " + orjson.dumps(chunk) + b"\r\n\r\n"


async def _as_array(chunks: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    """Gemini's non-SSE stream: one JSON array, elements written as they come."""
    separator = b"["
    async for chunk in chunks:
        yield separator + orjson.dumps(chunk)
        separator = b",\r\n"
    yield b"[]" if separator == b"[" else b"]"


def _error_chunk(error: GatewayError, context: RequestContext) -> dict[str, Any]:
    context.error = error.code or error.type
    return gemini_error_body(error)


async def _encode_stream(
    first: StreamEvent,
    events: AsyncIterator[StreamEvent],
    encoder: ChunkEncoder,
    gateway: Gateway,
    context: RequestContext,
) -> AsyncIterator[dict[str, Any]]:
    """Canonical events → Gemini chunks; an error mid-stream is the last element."""
    event: StreamEvent | None = first
    try:
        while event is not None:
            if isinstance(event, ErrorEvent):
                yield _error_chunk(GatewayError(event.message, status=event.status), context)
                return
            if isinstance(event, UsageEvent):
                context.usage = event.usage
            for chunk in encoder.encode(event):
                yield chunk
            if gateway.draining.is_set():
                yield _error_chunk(
                    GatewayError("The gateway is shutting down.", status=503), context
                )
                return
            event = await anext(events, None)
    except GatewayError as error:
        yield _error_chunk(error, context)
        return
    for chunk in encoder.close():
        yield chunk


# --- the fast path: Gemini front, Gemini provider --------------------------------------


class _Relay:
    """Relays a Gemini body to a Gemini upstream, sniffing usage from what goes by; an
    upstream that reports none gets our count (in the body, or for the ledger)."""

    def __init__(
        self,
        gateway: Gateway,
        context: RequestContext,
        provider: GeminiProvider,
        upstream_model: str,
        call: ModelCall,
    ) -> None:
        self._gateway, self._context, self._provider = gateway, context, provider
        self._model, self._call = upstream_model, call
        self._chunks: list[dict[str, Any]] = []  # kept only until usage shows up

    async def respond(self, raw: bytes, stream: bool, sse: bool) -> Response:
        request_id = self._context.request_id
        if not stream:
            reply = await self._provider.relay_model(self._model, raw, request_id)
            content = self._with_usage(reply.body)
            return Response(
                content, media_type="application/json", headers=source_header(self._context.usage)
            )
        byte_chunks = self._provider.relay_model_stream(self._model, raw, request_id)
        first = await anext(byte_chunks, b"")
        if sse:
            return StreamingResponse(
                self._sse(first, byte_chunks), media_type="text/event-stream", headers=SSE_HEADERS
            )
        return StreamingResponse(
            _as_array(self._decoded(first, byte_chunks)), media_type="application/json"
        )

    def _with_usage(self, body: bytes) -> bytes:
        """The body as is when it has usageMetadata, else with our count written in."""
        metadata = usage_metadata(body)
        if metadata is not None:
            self._context.usage = decode_usage(metadata)
            return body
        parsed, usage = count_reply(
            body,
            lambda reply: decode_response(reply, self._model),
            self._call,
            self._model,
            self._provider.name,
        )
        self._context.usage = usage
        parsed["usageMetadata"] = {**encode_usage(usage), USAGE_SOURCE_FIELD: usage.source.value}
        return orjson.dumps(parsed)

    def _sniff(self, chunk: dict[str, Any]) -> None:
        usage = decode_usage(chunk.get("usageMetadata"))
        if usage is not None:
            self._context.usage = usage
            self._chunks.clear()
        elif self._context.usage is None:
            self._chunks.append(chunk)

    def _count_if_unreported(self) -> None:
        if self._context.usage is None:
            decoder, events = ChunkDecoder(), list[StreamEvent]()
            for chunk in self._chunks:
                events += decoder.decode(chunk)
            self._context.usage = counted(self._call, self._model, events)

    def _shutting_down(self) -> dict[str, Any] | None:
        if not self._gateway.draining.is_set():
            return None
        return _error_chunk(
            GatewayError("The gateway is shutting down.", status=503), self._context
        )

    async def _sse(self, first: bytes, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """The upstream's SSE bytes as they come, parsed on the side only for usage."""
        parser = SSEParser()
        data: bytes | None = first
        try:
            while data is not None:
                yield data
                for event in parser.feed(data):
                    parsed = parse_chunk(event.data)
                    if parsed is not None:
                        self._sniff(parsed)
                stop = self._shutting_down()
                if stop is not None:
                    yield data_frame(stop)
                    return
                data = await anext(chunks, None)
            self._count_if_unreported()
        except GatewayError as error:
            yield data_frame(_error_chunk(error, self._context))

    async def _decoded(
        self, first: bytes, chunks: AsyncIterator[bytes]
    ) -> AsyncIterator[dict[str, Any]]:
        """The upstream's SSE chunks, decoded, for the JSON-array stream."""
        parser = SSEParser()
        data: bytes | None = first
        try:
            while data is not None:
                for event in parser.feed(data):
                    parsed = parse_chunk(event.data)
                    if parsed is not None:
                        self._sniff(parsed)
                        yield parsed
                stop = self._shutting_down()
                if stop is not None:
                    yield stop
                    return
                data = await anext(chunks, None)
            self._count_if_unreported()
        except GatewayError as error:
            yield _error_chunk(error, self._context)


# --- the model list, in Gemini's shape ----------------------------------------------------

_METHODS = ["generateContent", "streamGenerateContent", "countTokens"]


def _model_entry(name: str, provider: str, upstream: str) -> dict[str, Any]:
    return {
        "name": f"models/{name}",
        "baseModelId": name,
        "version": "001",
        "displayName": name,
        "description": f"{upstream} via {provider}",
        "supportedGenerationMethods": _METHODS,
    }


async def list_models(request: Request) -> Response:
    """`GET /v1beta/models`: the configured models and aliases (one page)."""
    gateway = gateway_of(request)
    authenticate(request, gateway, context_of(request))
    models = [
        _model_entry(name, provider, upstream)
        for name, provider, upstream in gateway.registry.table()
        if provider != "rewrite" and not name.endswith(":*")
    ]
    return JSONResponse({"models": models})


async def get_model(request: Request) -> Response:
    """`GET /v1beta/models/{model}`: one model, or Gemini's 404."""
    gateway = gateway_of(request)
    authenticate(request, gateway, context_of(request))
    name = str(request.path_params["model"]).removeprefix("models/")
    route = gateway.registry.resolve(name)
    return JSONResponse(_model_entry(name, route.provider.name, route.upstream_model))


routes = [
    Route("/v1beta/models", list_models, methods=["GET"]),
    Route("/v1beta/models/{model_action:path}", model_action, methods=["POST"]),
    Route("/v1beta/models/{model:path}", get_model, methods=["GET"]),
    # API version v1 (google-genai's default): the GETs share OpenAI's paths, so
    # fronts/health.py answers them and hands a Gemini client's to the two above
    Route("/v1/models/{model_action:path}", model_action, methods=["POST"]),
]
