"""The fast path for Chat Completions: relay bytes, sniff only the usage."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from relaygate.errors import GatewayError, UpstreamError
from relaygate.fronts.usage import USAGE_SOURCE_FIELD, count_reply, counted
from relaygate.pipeline.context import RequestContext
from relaygate.streaming.sse import DONE, SSEParser, data_frame
from relaygate.translate.openai_chat.request import decode_request
from relaygate.translate.openai_chat.response import decode_response, decode_usage, encode_usage
from relaygate.translate.openai_chat.stream import ChunkDecoder
from relaygate.types import StreamEvent, Usage

Estimator = Callable[[bytes], tuple[Usage, dict[str, Any]]]

_USAGE_MARKERS = (b'"usage":{', b'"usage": {')


def usage_from_body(body: bytes | str) -> dict[str, Any] | None:
    parsed = _json_object(body)
    usage = parsed.get("usage") if parsed is not None else None
    return usage if isinstance(usage, dict) else None


def reply_usage(body: bytes, provider: str | None) -> dict[str, Any] | None:
    """The usage of a relayed reply; a body that is not a JSON object is a bad gateway."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise UpstreamError(
            f"The upstream provider '{provider}' returned a malformed response (not a JSON object)."
        )
    usage = parsed.get("usage")
    return usage if isinstance(usage, dict) else None


def estimated_reply(
    reply: bytes, request: dict[str, Any], model: str, provider: str | None
) -> tuple[Usage, bytes]:
    """A relayed answer that came without usage: our count, written into the body."""
    parsed, usage = count_reply(reply, decode_response, decode_request(request), model, provider)
    parsed["usage"] = {**encode_usage(usage), USAGE_SOURCE_FIELD: usage.source.value}
    return usage, orjson.dumps(parsed)


def stream_estimator(request: dict[str, Any], model: str) -> Estimator:
    """Counts a relayed stream's output from its bytes, for upstreams that send no usage;
    also returns the chunk fields (id, created, model) a usage chunk should repeat."""

    def estimate(data: bytes) -> tuple[Usage, dict[str, Any]]:
        decoder, events, base = ChunkDecoder(), list[StreamEvent](), dict[str, Any]()
        for event in SSEParser().feed(data):
            chunk = _json_object(event.data)
            if chunk is None:
                continue
            base = base or {key: chunk.get(key) for key in ("id", "created", "model")}
            events += decoder.decode(chunk)
        return counted(decode_request(request), model, events), base

    return estimate


def _json_object(data: bytes | str) -> dict[str, Any] | None:
    """A JSON object, or None (an SSE `[DONE]`, anything malformed)."""
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


class UsageSniffer:
    """Splits an SSE byte stream into events just enough to find the usage chunk.

    When the client did not ask for usage, the usage-only chunk (which the gateway asked
    the upstream for) is cut out of what the client receives. When the upstream sent
    none by `[DONE]`, the `estimator` counts what went by (kept as bytes, parsed only
    then) and, if the client asked for usage, a usage chunk marked `estimated` goes first.
    """

    def __init__(
        self, context: RequestContext, client_wants_usage: bool, estimator: Estimator
    ) -> None:
        self._context = context
        self._keep_usage = client_wants_usage
        self._estimator = estimator
        self._pending = b""
        self._seen = bytearray()
        self._has_usage = False

    def feed(self, chunk: bytes) -> bytes:
        data = self._pending + chunk
        end = data.rfind(b"\n\n")
        if end < 0:
            self._pending = data
            return b""
        complete, self._pending = data[: end + 2], data[end + 2 :]
        if not self._has_usage:
            complete = self._estimate_before_done(complete)
        if not any(marker in complete for marker in _USAGE_MARKERS):
            return complete
        kept = []
        for event in complete.split(b"\n\n"):
            if event and any(marker in event for marker in _USAGE_MARKERS):
                self._record(event)
                if not self._keep_usage and b'"choices":[]' in event.replace(b" ", b""):
                    continue
            kept.append(event)
        return b"\n\n".join(kept)

    def _record(self, event: bytes) -> None:
        payload = event.split(b"data:", 1)[-1].strip()
        usage = usage_from_body(payload)
        if usage is not None:
            self._has_usage = True
            self._context.usage = decode_usage(usage)

    def _estimate_before_done(self, complete: bytes) -> bytes:
        done = complete.find(b"data: [DONE]")
        if done < 0:
            self._seen += complete
            return complete
        self._seen += complete[:done]
        if any(marker in self._seen for marker in _USAGE_MARKERS):
            return complete  # the usage is in this very batch; _record takes it
        usage, base = self._estimator(bytes(self._seen))
        self._context.usage = usage
        self._has_usage = True
        if not self._keep_usage:
            return complete
        encoded = {**encode_usage(usage), USAGE_SOURCE_FIELD: usage.source.value}
        chunk = {**base, "object": "chat.completion.chunk", "choices": [], "usage": encoded}
        return complete[:done] + data_frame(chunk) + complete[done:]

    def close(self) -> bytes:
        rest, self._pending = self._pending, b""
        if not self._has_usage:  # a stream without [DONE]: still count it, for the ledger
            self._context.usage = self._estimator(bytes(self._seen + rest))[0]
        return rest


async def relay_stream_bytes(
    chunks: AsyncIterator[bytes],
    first: bytes,
    sniffer: UsageSniffer,
    context: RequestContext,
) -> AsyncIterator[bytes]:
    """The upstream's SSE bytes to the client; a failure mid-stream ends it cleanly."""
    try:
        out = sniffer.feed(first)
        if out:
            yield out
        async for chunk in chunks:
            out = sniffer.feed(chunk)
            if out:
                yield out
        rest = sniffer.close()
        if rest:
            yield rest
    except GatewayError as error:
        context.error = error.code or error.type
        yield data_frame(
            {
                "error": {
                    "message": error.message,
                    "type": error.type,
                    "param": None,
                    "code": error.code,
                }
            }
        )
        yield DONE
