"""Usage of a relayed answer: the upstream's when it reported one, else our count of it
(written into the body in the format's own place, marked `relaygate_usage_source`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson

from relaygate.errors import UpstreamError
from relaygate.providers.failures import MALFORMED
from relaygate.tokens.stream_counter import StreamCounter, ensure_usage
from relaygate.types import ModelCall, ModelResult, StreamEvent, Usage

USAGE_SOURCE_FIELD = "relaygate_usage_source"


def json_object(data: bytes | str) -> dict[str, Any] | None:
    """A JSON object, or None (an SSE `[DONE]`, anything malformed)."""
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


def reply_object(body: bytes, provider: str) -> dict[str, Any]:
    """A relayed whole reply, parsed; one that is not a JSON object is a bad gateway."""
    parsed = json_object(body)
    if parsed is None:
        raise UpstreamError(
            f"The upstream provider '{provider}' returned a malformed response (not a JSON object)."
        )
    return parsed


def counted(call: ModelCall, model: str, events: Iterable[StreamEvent]) -> Usage:
    """The upstream's usage among `events` if any, else our count of what they generated."""
    counter = StreamCounter(call, model)
    for event in events:
        counter.feed(event)
    if counter.upstream is not None:
        return counter.upstream
    return counter.estimate()


def count_reply(
    reply: dict[str, Any],
    decode: Callable[[dict[str, Any]], ModelResult],
    call: ModelCall,
    model: str,
    provider: str,
) -> Usage:
    """Our count of a relayed answer that came without usage."""
    try:
        result = decode(reply)
    except MALFORMED as exc:
        raise UpstreamError(
            f"The upstream provider '{provider}' returned a malformed response."
        ) from exc
    return ensure_usage(result, call, model).usage
