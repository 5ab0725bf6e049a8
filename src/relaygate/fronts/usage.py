"""How every model front says whose usage a response carries (docs/tokens.md).

Non-streamed answers carry an `X-Relaygate-Usage-Source: upstream|estimated` header;
streamed usage the gateway writes carries a `relaygate_usage_source` field where the wire
format tolerates extra fields (Chat's usage chunk, Anthropic's `message_delta` usage).
When a relayed upstream reports no usage, the fronts count it here, from what went by.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson

from relaygate.providers.failures import decoded_result
from relaygate.tokens.stream_counter import StreamCounter, ensure_usage
from relaygate.types import ModelCall, ModelResult, StreamEvent, Usage

USAGE_SOURCE_HEADER = "X-Relaygate-Usage-Source"
USAGE_SOURCE_FIELD = "relaygate_usage_source"


def source_header(usage: Usage | None) -> dict[str, str]:
    """The header naming the usage's source (none when there is no usage at all)."""
    return {USAGE_SOURCE_HEADER: usage.source.value} if usage is not None else {}


def counted(call: ModelCall, model: str, events: Iterable[StreamEvent]) -> Usage:
    """The upstream's usage among `events` if any, else our count of what they generated."""
    counter = StreamCounter(call, model)
    for event in events:
        counter.feed(event)
    if counter.upstream is not None:
        return counter.upstream
    return counter.estimate()


def count_reply(
    reply: bytes,
    decode: Callable[[dict[str, Any]], ModelResult],
    call: ModelCall,
    model: str,
    provider: str | None,
) -> tuple[dict[str, Any], Usage]:
    """A relayed answer that came without usage: its parsed body and our count of it
    (the caller writes the usage into the body in its own format)."""
    result = decoded_result(provider or "unknown", reply, decode)
    parsed: dict[str, Any] = orjson.loads(reply)  # an object: `decode` accepted it
    return parsed, ensure_usage(result, call, model).usage
