"""Relaying Gemini generateContent: usage sniffed from `usageMetadata`, counted when the
upstream sent none; Gemini's error object at a failure. The stream is relayed as SSE
(the front re-frames it as a JSON array when the client did not ask for `alt=sse`)."""

from __future__ import annotations

from typing import Any

import orjson

from relaygate.errors import GatewayError
from relaygate.pipeline.call import Call
from relaygate.pipeline.outcome import Attempt
from relaygate.providers.base import RawReply, WireFormat
from relaygate.relay.usage import (
    USAGE_SOURCE_FIELD,
    count_reply,
    counted,
    json_object,
    reply_object,
)
from relaygate.routing.registry import Route
from relaygate.streaming.sse import SSEParser, data_frame
from relaygate.translate.error_bodies import gemini_error_body
from relaygate.translate.gemini.response import decode_response, decode_usage, encode_usage
from relaygate.translate.gemini.stream import ChunkDecoder
from relaygate.types import StreamEvent, Usage


class GeminiRelay:
    format = WireFormat.GEMINI

    def validate(self, call: Call) -> None:
        call.canonical()  # the same validation as translating

    def request(self, call: Call, route: Route) -> bytes:
        assert call.raw is not None
        return call.raw  # the model is in the URL, not the body

    def whole(self, call: Call, route: Route, reply: RawReply, attempt: Attempt) -> RawReply:
        parsed = reply_object(reply.body, route.provider.name)
        usage = decode_usage(parsed.get("usageMetadata"))
        if usage is not None:
            attempt.usage = usage
            return reply
        attempt.usage = count_reply(
            parsed, lambda body: decode_response(body, route.upstream_model), call.canonical(),
            route.upstream_model, route.provider.name,
        )
        parsed["usageMetadata"] = {
            **encode_usage(attempt.usage), USAGE_SOURCE_FIELD: attempt.usage.source.value
        }
        return RawReply(reply.status, orjson.dumps(parsed), reply.content_type)

    def sniffer(self, call: Call, route: Route) -> GeminiSniffer:
        return GeminiSniffer(call, route)

    def error_frames(self, error: GatewayError) -> bytes:
        return data_frame(gemini_error_body(error))


class GeminiSniffer:
    """Parses the SSE chunks going by (bytes pass untouched) for their usageMetadata."""

    def __init__(self, call: Call, route: Route) -> None:
        self._call = call
        self._route = route
        self._parser = SSEParser()
        self._usage: Usage | None = None
        self._chunks: list[dict[str, Any]] = []  # kept only until usage shows up
        self.failure: GatewayError | None = None

    def feed(self, chunk: bytes) -> bytes:
        for event in self._parser.feed(chunk):
            parsed = json_object(event.data)
            if parsed is None:
                continue
            usage = decode_usage(parsed.get("usageMetadata"))
            if usage is not None:
                self._usage = usage
                self._chunks.clear()
            elif self._usage is None:
                self._chunks.append(parsed)
        return chunk

    def close(self) -> bytes:
        return b""

    def usage(self) -> Usage:
        if self._usage is not None:
            return self._usage
        decoder, events = ChunkDecoder(), list[StreamEvent]()
        for chunk in self._chunks:
            events += decoder.decode(chunk)
        return counted(self._call.canonical(), self._route.upstream_model, events)
