"""The exact key of a call: a digest of its normalised request (the model as the client
named it, the messages, tools, tool choice, response format and every parameter that
changes the answer; never the stream flag, the user or the metadata), inside the call's
namespace. JSON key order and whitespace do not matter: the digest is of sorted, compact
JSON — of the front's wire body while no step has decoded (and so perhaps changed) it, of
the canonical call otherwise."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from relaygate.pipeline.call import Call
from relaygate.providers.replay.codec import encode
from relaygate.types import ModelCall, Role, TextPart

SEPARATOR = "\x1f"  # between a key's namespace, model and digest (never in a model name)
_NOT_IN_KEY = ("stream", "include_usage", "user", "metadata")  # they do not change the answer
_NOT_IN_BODY_KEY = ("stream", "stream_options", "user", "metadata")


@dataclass(slots=True)
class CacheKey:
    model: str
    digest: str
    text: str  # "<namespace>\x1f<model>\x1f<digest>": what the store is asked for

    def __str__(self) -> str:
        return self.text


def exact_key(call: Call, namespace: str) -> CacheKey:
    """The key of `call` (a chat call's canonical request, or a task's wire body)."""
    body = _wire_body(call)
    if body is not None:
        normal: Any = {"endpoint": call.endpoint.value, "model": call.model,
                       "body": {name: value for name, value in body.items()
                                if name not in _NOT_IN_BODY_KEY}}
    else:
        normal = _normal(call.canonical(), call.model)
    digest = _digest(normal)
    return CacheKey(call.model, digest, f"{namespace}{SEPARATOR}{call.model}{SEPARATOR}{digest}")


def deterministic(call: Call) -> bool:
    """Asked to answer the same way each time: temperature 0, or a fixed seed (read from
    the wire body while it is the call, so the relay never decodes it for this)."""
    body = _wire_body(call)
    if body is None:
        model_call = call.canonical()
        return model_call.temperature == 0 or model_call.seed is not None
    config = body.get("generationConfig", body)  # Gemini keeps them there
    if not isinstance(config, dict):
        return False
    temperature = config.get("temperature")
    zero = isinstance(temperature, int | float) and not isinstance(temperature, bool) \
        and temperature == 0
    return zero or config.get("seed") is not None


def _wire_body(call: Call) -> dict[str, Any] | None:
    """The front's body while it is the whole truth of the call (a task's always is)."""
    if call.body is not None and (call.task is not None or call.model_call is None):
        return call.body
    return None


def semantic_parts(call: Call, namespace: str) -> tuple[str, str] | None:
    """(the namespace of calls alike but for their last user message, that message's
    text), or None when the call does not end with a user's text."""
    model_call = call.canonical()
    if not model_call.messages:
        return None
    last = model_call.messages[-1]
    if last.role is not Role.USER or not last.content:
        return None
    if not all(isinstance(part, TextPart) for part in last.content):
        return None
    text = "\n".join(part.text for part in last.content if isinstance(part, TextPart)).strip()
    if not text:
        return None
    context = _normal(model_call, call.model)
    context["messages"] = context["messages"][:-1]  # the earlier turns stay part of the key
    return f"{namespace}{SEPARATOR}{call.model}{SEPARATOR}{_digest(context)}", text


def _normal(model_call: ModelCall, model: str) -> dict[str, Any]:
    normal: dict[str, Any] = encode(model_call)
    for name in _NOT_IN_KEY:
        normal.pop(name, None)
    normal["model"] = model
    return normal


def _digest(value: Any) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()
