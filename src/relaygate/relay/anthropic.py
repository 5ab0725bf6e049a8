"""Relaying Anthropic Messages: usage sniffed from `message_start` and `message_delta`,
the client's model name kept, Anthropic's `error` event at a failure."""

from __future__ import annotations

from typing import Any

import orjson

from relaygate.errors import GatewayError
from relaygate.pipeline.call import Call
from relaygate.pipeline.outcome import Attempt
from relaygate.providers.base import RawReply, WireFormat
from relaygate.relay.usage import (
    ReplyUsage,
    counted,
    json_object,
    whole_reply,
)
from relaygate.routing.registry import Route
from relaygate.streaming.sse import SSEParser, event_frame
from relaygate.translate.anthropic import wire
from relaygate.translate.anthropic.encode import DEFAULT_MAX_TOKENS
from relaygate.translate.anthropic.request import decode_request
from relaygate.translate.anthropic.response import decode_response, decode_usage, encode_usage
from relaygate.translate.anthropic.stream import EventDecoder, error_event
from relaygate.translate.error_bodies import anthropic_error_body
from relaygate.types import StreamEvent, Usage

_USAGE_EVENTS = frozenset({"message_start", "message_delta"})


_REPLY = ReplyUsage(decode_usage, encode_usage, decode_response, decode_request)


class AnthropicRelay:
    format = WireFormat.ANTHROPIC

    def validate(self, call: Call) -> None:
        wire.validate_request(wire.MessagesRequest, call.body)

    def request(self, call: Call, route: Route) -> bytes:
        body = call.body
        assert body is not None and call.raw is not None
        if body.get("model") == route.upstream_model and body.get("max_tokens") is not None:
            return call.raw
        body = {**body, "model": route.upstream_model}
        if body.get("max_tokens") is None:
            body["max_tokens"] = DEFAULT_MAX_TOKENS
        return orjson.dumps(body)

    def whole(self, call: Call, route: Route, reply: RawReply, attempt: Attempt) -> RawReply:
        return whole_reply(call, route, reply, attempt, _REPLY)

    def sniffer(self, call: Call, route: Route) -> AnthropicSniffer:
        return AnthropicSniffer(call, route)

    def error_frames(self, error: GatewayError) -> bytes:
        return error_event(error.message, anthropic_error_body(error)["error"]["type"])


class AnthropicSniffer:
    """Reads the SSE events going by to collect the usage that `message_start` and
    `message_delta` carry; with none by the end, `usage` counts what went by."""

    def __init__(self, call: Call, route: Route) -> None:
        self._call = call
        self._route = route
        self._rename = call.model if call.model != route.upstream_model else None
        self._parser = SSEParser()
        self._usage: dict[str, Any] = {}
        self._seen = bytearray()
        self.failure: GatewayError | None = None

    def feed(self, chunk: bytes) -> bytes:
        if not self._usage:
            self._seen += chunk
        renamed = bytearray() if self._rename is not None else None
        for event in self._parser.feed(chunk):
            payload = json_object(event.data) if event.event in _USAGE_EVENTS else None
            if payload is not None:
                message = payload.get("message")
                usage = message.get("usage") if isinstance(message, dict) else payload.get("usage")
                if isinstance(usage, dict):
                    self._usage.update({k: v for k, v in usage.items() if v is not None})
                if renamed is not None and isinstance(message, dict) and "model" in message:
                    message["model"] = self._rename
            if renamed is not None:
                data = payload if payload is not None else json_object(event.data)
                name = event.event or "message"
                if data is None:
                    renamed += f"event: {name}\ndata: {event.data}\n\n".encode()
                else:
                    renamed += event_frame(name, data)
        return chunk if renamed is None else bytes(renamed)

    def close(self) -> bytes:
        return b""

    def usage(self) -> Usage:
        if self._usage:
            return decode_usage(self._usage)
        decoder, events = EventDecoder(), list[StreamEvent]()
        for event in SSEParser().feed(bytes(self._seen)):
            payload = json_object(event.data)
            if payload is not None:
                events += decoder.decode(payload)
        assert self._call.body is not None
        return counted(decode_request(self._call.body), self._route.upstream_model, events)
