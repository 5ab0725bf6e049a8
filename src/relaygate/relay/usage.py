"""Usage of a relayed answer: the upstream's when it reported one, else our count of it
(written into the body in the format's own place, marked `relaygate_usage_source`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from relaygate.errors import UpstreamError
from relaygate.pipeline.call import Call
from relaygate.pipeline.outcome import Attempt
from relaygate.providers.base import RawReply
from relaygate.providers.failures import MALFORMED
from relaygate.routing.registry import Route
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


@dataclass(frozen=True, slots=True)
class ReplyUsage:
    """Where a format's whole reply keeps its usage, and how to read and write it."""

    decode_usage: Callable[[dict[str, Any]], Usage]
    encode_usage: Callable[[Usage], dict[str, Any]]
    decode_response: Callable[[dict[str, Any]], ModelResult]
    decode_request: Callable[[Any], ModelCall]


def whole_reply(
    call: Call, route: Route, reply: RawReply, attempt: Attempt, codec: ReplyUsage
) -> RawReply:
    """A relayed whole reply (`usage` and `model` at the top, as in Chat and Messages):
    its usage recorded on `attempt` (our count written in when it had none), and the
    model name the client asked for. The bytes go back untouched when nothing changes."""
    parsed = reply_object(reply.body, route.provider.name)
    usage = parsed.get("usage")
    changed = parsed.get("model") != call.model
    if isinstance(usage, dict):
        attempt.usage = codec.decode_usage(usage)
    else:  # our count, written in (and the model name with it)
        attempt.usage = count_reply(
            parsed, codec.decode_response, codec.decode_request(call.body),
            route.upstream_model, route.provider.name,
        )
        parsed["usage"] = {
            **codec.encode_usage(attempt.usage), USAGE_SOURCE_FIELD: attempt.usage.source.value
        }
        parsed["model"] = call.model
        return RawReply(reply.status, orjson.dumps(parsed), reply.content_type)
    if not changed:
        return reply
    return RawReply(reply.status, renamed(reply.body, parsed, call.model), reply.content_type)


def renamed(body: bytes, parsed: dict[str, Any], model: str) -> bytes:
    """`body` with its top-level `model` set to `model`: the bytes edited in place when the
    upstream's name appears once (no re-encoding), else `parsed` encoded again."""
    served = parsed.get("model")
    if isinstance(served, str):
        for pattern in (b'"model":', b'"model": '):
            needle = pattern + orjson.dumps(served)
            if body.count(needle) == 1:
                return body.replace(needle, pattern + orjson.dumps(model))
    parsed["model"] = model
    return orjson.dumps(parsed)
