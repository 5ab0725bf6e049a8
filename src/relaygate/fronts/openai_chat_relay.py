"""The fast path for Chat Completions: relay bytes, sniff only the usage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from relaygate.errors import GatewayError
from relaygate.pipeline.context import RequestContext
from relaygate.streaming.sse import DONE, data_frame
from relaygate.translate.openai_chat.response import decode_usage

_USAGE_MARKERS = (b'"usage":{', b'"usage": {')


def usage_from_body(body: bytes) -> dict[str, Any] | None:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    usage = parsed.get("usage") if isinstance(parsed, dict) else None
    return usage if isinstance(usage, dict) else None


class UsageSniffer:
    """Splits an SSE byte stream into events just enough to find the usage chunk.

    When the client did not ask for usage, the usage-only chunk (which the gateway asked
    the upstream for) is cut out of what the client receives.
    """

    def __init__(self, context: RequestContext, client_wants_usage: bool) -> None:
        self._context = context
        self._keep_usage = client_wants_usage
        self._pending = b""

    def feed(self, chunk: bytes) -> bytes:
        data = self._pending + chunk
        end = data.rfind(b"\n\n")
        if end < 0:
            self._pending = data
            return b""
        complete, self._pending = data[: end + 2], data[end + 2 :]
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
            self._context.usage = decode_usage(usage)

    def close(self) -> bytes:
        rest, self._pending = self._pending, b""
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
