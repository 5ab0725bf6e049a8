"""`POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent`: the Gemini front.

Streams are SSE with `?alt=sse`, else one JSON array written as it grows (as Gemini
does). `:countTokens` answers with our estimate. Any configured model can be named;
`GET /v1beta/models` lists them in Gemini's shape.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from relaygate.errors import GatewayError, NotFound
from relaygate.fronts.common import authenticate, context_of, gateway_of, model_request
from relaygate.fronts.model_front import FrontFormat, model_call, serve
from relaygate.pipeline.access import check_model
from relaygate.pipeline.call import Call, Endpoint
from relaygate.providers.base import WireFormat
from relaygate.routing.registry import Route as ModelRoute
from relaygate.streaming.sse import SSEParser
from relaygate.tokens.estimate import estimate_prompt
from relaygate.translate.error_bodies import gemini_error_body
from relaygate.translate.gemini.request import decode_request
from relaygate.translate.gemini.response import encode_result
from relaygate.translate.gemini.stream import ChunkEncoder
from relaygate.types import ErrorEvent, ModelCall, StreamEvent

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


class GeminiFrames:
    """Canonical events → Gemini chunks as SSE frames (`data: <chunk>`, CRLF as Google
    sends them); `as_array` re-frames them for the JSON-array stream."""

    def __init__(self, call: Call, route: ModelRoute) -> None:
        self._encoder = ChunkEncoder(call.model, f"rg-{uuid.uuid4().hex[:20]}")

    def start(self) -> Iterable[bytes]:
        return ()

    def encode(self, event: StreamEvent) -> Iterable[bytes]:
        return [_sse(chunk) for chunk in self._encoder.encode(event)]

    def close(self) -> Iterable[bytes]:
        return [_sse(chunk) for chunk in self._encoder.close()]

    def fail(self, error: GatewayError) -> bytes:
        return _sse(gemini_error_body(error))

    def fail_event(self, event: ErrorEvent) -> bytes:
        return self.fail(GatewayError(event.message, status=event.status))


def _sse(chunk: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(chunk) + b"\r\n\r\n"


async def as_array(frames: AsyncIterator[bytes], call: Call) -> AsyncIterator[bytes]:
    """Gemini's non-SSE stream: one JSON array, elements written as they come (SSE frames,
    relayed or encoded, are re-framed; the source is closed however this ends)."""
    parser = SSEParser()
    separator = b"["
    try:
        async for frame in frames:
            out = bytearray()
            for event in parser.feed(frame):
                out += separator + event.data.encode()
                separator = b",\r\n"
            if out:
                yield bytes(out)
    finally:
        close = getattr(frames, "aclose", None)
        if close is not None:
            await close()
    yield b"[]" if separator == b"[" else b"]"


GEMINI_SSE = FrontFormat(  # `?alt=sse`, what Google's SDKs ask for
    wire=WireFormat.GEMINI,
    endpoint=Endpoint.GEMINI,
    encode_result=encode_result,
    stream_encoder=GeminiFrames,
)
GEMINI_ARRAY = FrontFormat(  # the default: one JSON array
    wire=WireFormat.GEMINI,
    endpoint=Endpoint.GEMINI,
    encode_result=encode_result,
    stream_encoder=GeminiFrames,
    frame=as_array,
    stream_media_type="application/json",
)


async def model_action(request: Request) -> Response:
    model, action = _split(request.path_params["model_action"])  # an unknown method: 404
    if action == "countTokens":
        prologue = await model_request(request, model)
        route = prologue.gateway.registry.resolve(model)  # counted here: no upstream call
        return _count_tokens(prologue.body, route.upstream_model)
    stream = action == "streamGenerateContent"

    def decode(body: dict[str, Any]) -> ModelCall:
        return decode_request(body, model, stream)

    front = GEMINI_SSE if request.query_params.get("alt") == "sse" else GEMINI_ARRAY
    gateway, call = await model_call(request, front, decode, stream=stream, model=model)
    return await serve(gateway, call, front)


def _count_tokens(body: dict[str, Any], model: str) -> Response:
    request = body.get("generateContentRequest")
    call = decode_request(request if isinstance(request, dict) else body, model, False)
    total = estimate_prompt(call.messages, call.tools, model)
    return Response(orjson.dumps({"totalTokens": total}), media_type="application/json")


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
    principal = await authenticate(request, gateway, context_of(request))
    grant = principal.grant
    models = [
        _model_entry(name, provider, upstream)
        for name, provider, upstream in gateway.registry.table()
        if provider != "rewrite" and not name.endswith(":*")
        and (grant is None or grant.allows_model(name))
    ]
    return JSONResponse({"models": models})


async def get_model(request: Request) -> Response:
    """`GET /v1beta/models/{model}`: one model, or Gemini's 404."""
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    name = str(request.path_params["model"]).removeprefix("models/")
    check_model(principal, name)
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
