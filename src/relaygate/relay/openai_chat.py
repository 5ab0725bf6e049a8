"""Relaying Chat Completions: usage sniffed, every event checked, the client's model name kept.

A relayed stream must be well formed for the openai SDK: every event is `data: <JSON
object>` or `data: [DONE]`, and it ends with a `finish_reason` and `[DONE]`. A line that
is not SSE, data that is not a JSON object, or a body that ends before any
`finish_reason` ends the stream with an OpenAI error event and `[DONE]`, as the
translating path does.
"""

from __future__ import annotations

from typing import Any

import orjson

from relaygate.errors import GatewayError, UpstreamError
from relaygate.pipeline.call import Call
from relaygate.pipeline.outcome import Attempt
from relaygate.providers.base import RawReply, WireFormat
from relaygate.relay.usage import (
    USAGE_SOURCE_FIELD,
    ReplyUsage,
    counted,
    json_object,
    renamed,
    whole_reply,
)
from relaygate.routing.registry import Route
from relaygate.streaming.sse import DONE, SSEParser, data_frame
from relaygate.translate.openai_chat import wire
from relaygate.translate.openai_chat.request import decode_request
from relaygate.translate.openai_chat.response import decode_response, decode_usage, encode_usage
from relaygate.translate.openai_chat.stream import ChunkDecoder
from relaygate.translate.validation import validate_wire
from relaygate.types import StreamEvent, Usage

_DONE_DATA = b"[DONE]"


def error_frames(error: GatewayError) -> bytes:
    """OpenAI's error event, then `[DONE]`."""
    body = {"error": {"message": error.message, "type": error.type, "param": None,
                      "code": error.code}}
    return data_frame(body) + DONE


def _wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))


_REPLY = ReplyUsage(decode_usage, encode_usage, decode_response, decode_request)


class ChatRelay:
    format = WireFormat.OPENAI_CHAT

    def validate(self, call: Call) -> None:
        validate_wire(wire.ChatRequest, call.body, wire.MESSAGE_TAGS)

    def request(self, call: Call, route: Route) -> bytes:
        body = call.body
        assert body is not None and call.raw is not None
        stream = body.get("stream") is True
        if body.get("model") == route.upstream_model and not (stream and not _wants_usage(body)):
            return call.raw
        body = {**body, "model": route.upstream_model}
        if stream:  # ask for usage, so the ledger gets the upstream's count
            body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
        return orjson.dumps(body)

    def whole(self, call: Call, route: Route, reply: RawReply, attempt: Attempt) -> RawReply:
        return whole_reply(call, route, reply, attempt, _REPLY)

    def sniffer(self, call: Call, route: Route) -> ChatSniffer:
        assert call.body is not None
        return ChatSniffer(call, route)

    def error_frames(self, error: GatewayError) -> bytes:
        return error_frames(error)


class ChatSniffer:
    """Checks each event of a relayed Chat stream and finds its usage.

    When the client did not ask for usage, the usage-only chunk (which the gateway asked
    the upstream for) is cut out. When the upstream sent none by `[DONE]`, what went by
    (kept as bytes, parsed only then) is counted and, if the client asked for usage, a
    usage chunk marked `estimated` goes before `[DONE]`.
    """

    def __init__(self, call: Call, route: Route) -> None:
        assert call.body is not None
        self._call = call
        self._route = route
        self._keep_usage = _wants_usage(call.body)
        self._rename = call.model if call.model != route.upstream_model else None
        # the name the upstream's chunks most likely carry, and what replaces it
        self._served = b'"model":' + orjson.dumps(route.upstream_model)
        self._asked = b'"model":' + orjson.dumps(call.model)
        self._pending = b""
        self._seen = bytearray()  # kept until usage shows up, to count it otherwise
        self._usage: Usage | None = None
        self._base: dict[str, Any] = {}  # id, created, model of the first chunk
        self._finished = False  # a finish_reason (or an error event) went by
        self._done = False
        self.failure: GatewayError | None = None

    def feed(self, chunk: bytes) -> bytes:
        data = self._pending + chunk
        end = data.rfind(b"\n\n")
        if end < 0:
            self._pending = data
            return b""
        complete, self._pending = data[: end + 2], data[end + 2 :]
        events = complete.split(b"\n\n")[:-1]
        out: list[bytes] | None = None  # only when an event changed: else `complete` as is
        for index, event in enumerate(events):
            changed = self._event(event)
            stop = self.failure is not None or self._done
            if out is None and (changed is not None or (stop and index < len(events) - 1)):
                out = [item + b"\n\n" for item in events[:index]]
            if out is not None:
                out.append(event + b"\n\n" if changed is None else changed)
            if stop:
                break
        return complete if out is None else b"".join(out)

    def _event(self, event: bytes) -> bytes | None:
        """What replaces one event (`b""` drops it), or None to pass it as it is."""
        payload = _data_of(event)
        if payload is None:  # a comment (keep-alive) or an empty event
            return None
        if payload is _MALFORMED:
            return self._malformed("a line that is not server-sent events")
        if payload == _DONE_DATA:
            self._done = True
            before = self._before_done()
            return before + DONE if before else None
        chunk = json_object(payload)
        if chunk is None:
            return self._malformed("an event whose data is not a JSON object")
        if self._usage is None:
            self._seen += event
            self._seen += b"\n\n"
            if not self._base:
                self._base = {key: chunk.get(key) for key in ("id", "created", "model")}
        if b'"usage"' in payload:  # byte tests first: most chunks carry neither
            usage = chunk.get("usage")
            if isinstance(usage, dict):
                self._usage = decode_usage(usage)
                self._seen.clear()
                if not self._keep_usage and chunk.get("choices") == []:
                    return b""
        if not self._finished and (b'"finish_reason"' in payload or b'"error"' in payload):
            self._finished = "error" in chunk
            for choice in chunk.get("choices") or ():
                if isinstance(choice, dict) and choice.get("finish_reason"):
                    self._finished = True
        if self._rename is None or "model" not in chunk:
            return None
        if self._served in payload:
            return b"data: " + payload.replace(self._served, self._asked, 1) + b"\n\n"
        return b"data: " + renamed(payload, chunk, self._rename) + b"\n\n"

    def _malformed(self, what: str) -> bytes:
        self.failure = UpstreamError(
            f"The upstream provider '{self._route.provider.name}' sent a malformed stream "
            f"({what}).",
            code="malformed_upstream_stream",
        )
        return b""

    def _before_done(self) -> bytes:
        """The estimated usage chunk when the upstream sent none and the client wants it."""
        if self._usage is not None:
            return b""
        usage = self.usage()
        if not self._keep_usage:
            return b""
        base = {**self._base, "model": self._rename or self._base.get("model")}
        encoded = {**encode_usage(usage), USAGE_SOURCE_FIELD: usage.source.value}
        return data_frame({**base, "object": "chat.completion.chunk", "choices": [],
                           "usage": encoded})

    def close(self) -> bytes:
        rest, self._pending = self._pending, b""
        event = rest.strip()
        out = b""
        if event and not self._done:
            changed = self._event(event)
            out = event + b"\n\n" if changed is None else changed
        if self.failure is not None:
            raise self.failure
        if self._done:
            return out
        if not self._finished:
            raise UpstreamError(
                f"The upstream provider '{self._route.provider.name}' ended the stream "
                "before finishing.",
                code="truncated_upstream_stream",
            )
        return out + self._before_done() + DONE

    def usage(self) -> Usage:
        if self._usage is None:
            assert self._call.body is not None
            decoder, events = ChunkDecoder(), list[StreamEvent]()
            for event in SSEParser().feed(bytes(self._seen)):
                chunk = json_object(event.data)
                if chunk is not None:
                    events += decoder.decode(chunk)
            self._usage = counted(decode_request(self._call.body), self._route.upstream_model,
                                  events)
            self._seen.clear()
        return self._usage


_MALFORMED = b"\x00malformed"


def _data_of(event: bytes) -> bytes | None:
    """The data of one SSE event; None for a comment-only or empty one; `_MALFORMED` for
    lines that are not SSE fields."""
    if event.startswith(b"data:"):
        if b"\n" not in event:
            return event[5:].strip()
    data: list[bytes] = []
    for line in event.split(b"\n"):
        line = line.rstrip(b"\r")
        if not line or line.startswith(b":"):
            continue
        name, sep, value = line.partition(b":")
        if not sep or name not in (b"data", b"event", b"id", b"retry"):
            return _MALFORMED
        if name == b"data":
            data.append(value.removeprefix(b" "))
    return b"\n".join(data).strip() if data else None
