"""The fast path for Anthropic Messages: relay bytes, sniff only the usage."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from relaygate.errors import GatewayError
from relaygate.fronts.errors import anthropic_error_body
from relaygate.fronts.usage import USAGE_SOURCE_FIELD, count_reply, counted
from relaygate.pipeline.context import RequestContext
from relaygate.streaming.sse import SSEParser
from relaygate.translate.anthropic.request import decode_request
from relaygate.translate.anthropic.response import decode_response, decode_usage, encode_usage
from relaygate.translate.anthropic.stream import EventDecoder, error_event
from relaygate.types import StreamEvent, Usage

Estimator = Callable[[bytes], Usage]


def estimated_reply(
    reply: bytes, request: dict[str, Any], model: str, provider: str
) -> tuple[Usage, bytes]:
    """A relayed message that came without usage: our count, written into the body."""
    parsed, usage = count_reply(reply, decode_response, decode_request(request), model, provider)
    parsed["usage"] = {**encode_usage(usage), USAGE_SOURCE_FIELD: usage.source.value}
    return usage, orjson.dumps(parsed)


def stream_estimator(request: dict[str, Any], model: str) -> Estimator:
    """Counts a relayed stream's output from its bytes, for an upstream that sent no usage."""

    def estimate(data: bytes) -> Usage:
        decoder, events = EventDecoder(), list[StreamEvent]()
        for event in SSEParser().feed(data):
            try:
                payload = orjson.loads(event.data)
            except orjson.JSONDecodeError:
                continue
            if isinstance(payload, dict):
                events += decoder.decode(payload)
        return counted(decode_request(request), model, events)

    return estimate


_USAGE_EVENTS = frozenset({"message_start", "message_delta"})


class UsageSniffer:
    """Reads the SSE events going by (bytes pass untouched) to collect the usage that
    `message_start` and `message_delta` carry; with none by the end, `close` counts it."""

    def __init__(self, context: RequestContext, estimator: Estimator) -> None:
        self._context = context
        self._estimator = estimator
        self._parser = SSEParser()
        self._usage: dict[str, Any] = {}
        self._seen = bytearray()

    def close(self) -> None:
        if not self._usage:
            self._context.usage = self._estimator(bytes(self._seen))

    def feed(self, chunk: bytes) -> None:
        if not self._usage:
            self._seen += chunk
        for event in self._parser.feed(chunk):
            if event.event not in _USAGE_EVENTS:
                continue
            try:
                payload = orjson.loads(event.data)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(payload, dict):
                continue
            message = payload.get("message")
            usage = message.get("usage") if isinstance(message, dict) else payload.get("usage")
            if isinstance(usage, dict):
                self._usage.update(
                    {key: value for key, value in usage.items() if value is not None}
                )
                self._context.usage = decode_usage(self._usage)


async def relay_stream_bytes(
    chunks: AsyncIterator[bytes], first: bytes, context: RequestContext, estimator: Estimator
) -> AsyncIterator[bytes]:
    """The upstream's SSE bytes to the client; a failure mid-stream ends with an `error` event."""
    sniffer = UsageSniffer(context, estimator)
    try:
        sniffer.feed(first)
        yield first
        async for chunk in chunks:
            sniffer.feed(chunk)
            yield chunk
        sniffer.close()
    except GatewayError as error:
        context.error = error.code or error.type
        yield error_event(error.message, anthropic_error_body(error)["error"]["type"])
