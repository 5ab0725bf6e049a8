"""The skeleton every model front shares: decode → pipeline → encode.

A front module supplies a `FrontFormat` (its wire format, how to encode a whole result,
a stream encoder, its framing) and, per request, a `Call`. `respond` turns whatever
answered the call — relayed bytes or a canonical result or stream — into the response,
with the model name the client asked for and headers naming what served it. A failure
before the first byte is an exception (rendered by fronts/errors.py in the front's
format); after it, the format's own error event ends the stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from starlette.requests import Request
from starlette.responses import Response

from relaygate.cache.controls import CONTROL_HEADERS, positive_seconds, read_controls
from relaygate.errors import GatewayError, InvalidRequest
from relaygate.fronts.common import ModelRequest, model_request
from relaygate.fronts.streams import ClosingStream
from relaygate.fronts.usage import USAGE_SOURCE_HEADER
from relaygate.pipeline.call import Answer, Call, Decoder, Endpoint, PromptReader, Task
from relaygate.pipeline.context import RequestContext
from relaygate.prompts.ref import (
    METADATA_KEY,
    PROMPT_HEADER,
    TEMPLATES_OFF,
    from_request,
    sticky_user,
)
from relaygate.providers.base import WireFormat
from relaygate.routing.registry import Route
from relaygate.services import Gateway
from relaygate.types import ErrorEvent, ModelResult, StreamEvent

SERVED_HEADER = "X-Relaygate-Served-By"  # `<provider>/<upstream model>` that answered


class FrameEncoder(Protocol):
    """Canonical stream events → a front's wire frames (bytes)."""

    def start(self) -> Iterable[bytes]: ...

    def encode(self, event: StreamEvent) -> Iterable[bytes]: ...

    def close(self) -> Iterable[bytes]:
        """The frames after the last event (and the terminator)."""

    def fail(self, error: GatewayError) -> bytes:
        """The error event (and terminator) that ends a failing stream."""

    def fail_event(self, event: ErrorEvent) -> bytes:
        """The same, for an error the upstream reported as an event."""


@dataclass(frozen=True, slots=True)
class FrontFormat:
    wire: WireFormat
    endpoint: Endpoint
    encode_result: Callable[[ModelResult], dict[str, Any]]
    stream_encoder: Callable[[Call, Route], FrameEncoder]
    frame: Callable[[AsyncIterator[bytes], Call], AsyncIterator[bytes]] | None = None
    stream_media_type: str = "text/event-stream"
    headers: Callable[[Call], dict[str, str]] = lambda call: {}  # a new dict each time
    read_prompt: PromptReader | None = None  # a relayed call's worst case, without decoding


async def model_call(
    request: Request,
    front: FrontFormat,
    decoder: Decoder,
    *,
    stream: bool | None = None,
    model: str | None = None,
) -> tuple[Gateway, Call]:
    """The prologue (authenticate, read the body, the model) and the front's `Call`;
    `stream` defaults to the body's `stream: true`, `model` to the body's."""
    prologue = await model_request(request, model)
    body = prologue.body
    call, prompt_header = _call(request, prologue, front.endpoint,
                                body.get("stream") is True if stream is None else stream)
    call.front, call.decoder, call.reader = front.wire, decoder, front.read_prompt
    metadata = body.get("metadata")
    if prompt_header or (isinstance(metadata, dict) and METADATA_KEY in metadata):
        call.prompt = from_request(request.headers, metadata)
        if call.prompt is not None:
            if prologue.gateway.prompts is None:
                raise InvalidRequest(TEMPLATES_OFF, param=PROMPT_HEADER, code="prompts_off")
            call.prompt.sticky = sticky_user(body)
    return prologue.gateway, call


async def task_call(
    request: Request, endpoint: Endpoint, task: Callable[[dict[str, Any]], Task],
    default_model: str | None = None,
) -> tuple[Gateway, Call]:
    """The prologue and the `Call` of a model call that is not a chat (embeddings, images,
    moderations): `task` checks the body (400) and makes the call's task."""
    prologue = await model_request(request, default_model=default_model)
    call, _ = _call(request, prologue, endpoint, False)
    call.task = task(prologue.body)
    return prologue.gateway, call


def _call(request: Request, prologue: ModelRequest, endpoint: Endpoint,
          stream: bool) -> tuple[Call, bool]:
    """The `Call` every model front makes of its request, and whether it names a prompt
    template by header."""
    context = prologue.context
    assert context.principal is not None  # set by model_request
    metadata = prologue.body.get("metadata")
    tags, traceparent, timeout, prompt_header, cache_headers = _tags_and_trace(request)
    call = Call(
        request_id=context.request_id,
        principal=context.principal,
        endpoint=endpoint,
        model=prologue.model,
        stream=stream,
        body=prologue.body,
        raw=prologue.raw,
        metadata=_strings(metadata) if metadata else {},
        tags=tags,
        traceparent=traceparent,
        context=context,
        observers=[context.record],
        timeout=timeout,
    )
    if prologue.gateway.cache is not None:
        call.cacheable = True
        if cache_headers:
            call.cache_controls = read_controls(cache_headers)
    return call, prompt_header


def served_headers(answer: Answer) -> dict[str, str]:
    """What served a call, and where its usage came from."""
    route = answer.route
    headers = {SERVED_HEADER: f"{route.provider.name}/{route.upstream_model}"}
    if answer.usage is not None:
        headers[USAGE_SOURCE_HEADER] = str(answer.usage.source)
    return headers


async def serve(gateway: Gateway, call: Call, front: FrontFormat) -> Response:
    """Run `call` through the pipeline and answer in the front's format."""
    answer = await gateway.pipeline.run(call)
    return respond(answer, call, front)


def respond(answer: Answer, call: Call, front: FrontFormat) -> Response:
    route = answer.route
    headers = front.headers(call)
    headers[SERVED_HEADER] = f"{route.provider.name}/{route.upstream_model}"
    if answer.reply is not None:
        if answer.usage is not None:
            headers[USAGE_SOURCE_HEADER] = str(answer.usage.source)
        return Response(answer.reply.body, media_type=answer.reply.content_type, headers=headers)
    if answer.result is not None:
        answer.result.model = call.model
        headers[USAGE_SOURCE_HEADER] = str(answer.result.usage.source)
        body = orjson.dumps(front.encode_result(answer.result))
        return Response(body, media_type="application/json", headers=headers)
    frames: AsyncIterator[bytes]
    if answer.chunks is not None:
        frames = answer.chunks
    else:
        assert answer.events is not None
        encoder = front.stream_encoder(call, answer.route)
        frames = encoded(answer.events, encoder, call.context)
    if front.frame is not None:
        frames = front.frame(frames, call)
    return ClosingStream(frames, front.stream_media_type, headers)


async def encoded(
    events: AsyncIterator[StreamEvent], encoder: FrameEncoder, context: RequestContext | None
) -> AsyncIterator[bytes]:
    """Canonical events → frames; a failure mid-stream ends with the format's error event.
    The source is closed however this ends, so its outcome is recorded then."""
    try:
        for frame in encoder.start():
            yield frame
        async for event in events:
            if isinstance(event, ErrorEvent):
                _note(context, event.type)
                yield encoder.fail_event(event)
                return
            frames = b"".join(encoder.encode(event))  # one event's frames, one ASGI send
            if frames:
                yield frames
        for frame in encoder.close():
            yield frame
    except GatewayError as error:
        _note(context, error.code or error.type)
        yield encoder.fail(error)
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()


def _note(context: RequestContext | None, error: str) -> None:
    if context is not None:
        context.error = error


def _strings(metadata: Any) -> dict[str, str]:
    """The body's metadata values that are strings (a Call's metadata)."""
    if not isinstance(metadata, dict):
        return {}
    return {str(key): value for key, value in metadata.items() if isinstance(value, str)}


def _tags_and_trace(
    request: Request,
) -> tuple[list[str], str | None, float | None, bool, list[tuple[bytes, bytes]]]:
    """`x-relaygate-tags` (comma-separated), `traceparent`, `x-relaygate-timeout` (seconds),
    whether `x-relaygate-prompt` is there, and the cache's control headers, in one pass
    over the headers."""
    tags: list[str] = []
    traceparent = None
    timeout = None
    prompt = False
    cache_headers: list[tuple[bytes, bytes]] = []
    for name, value in request.scope["headers"]:
        if name == b"x-relaygate-tags":
            tags += [tag.strip() for tag in value.decode("latin-1").split(",") if tag.strip()]
        elif name == b"traceparent":
            traceparent = value.decode("latin-1")
        elif name == b"x-relaygate-timeout":
            timeout = positive_seconds(value)
        elif name == b"x-relaygate-prompt":
            prompt = True
        elif name in CONTROL_HEADERS:
            cache_headers.append((name, value))
    return tags, traceparent, timeout, prompt, cache_headers
