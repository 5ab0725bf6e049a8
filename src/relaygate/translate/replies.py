"""A relayed whole reply, in its wire format, as the canonical result (the cache, span
content), or only how it finished (what the cache checks before it keeps the bytes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from relaygate.providers.base import WireFormat
from relaygate.translate.anthropic.response import decode_response as anthropic_result
from relaygate.translate.anthropic.response import decode_stop_reason
from relaygate.translate.gemini.response import decode_finish as gemini_finish
from relaygate.translate.gemini.response import decode_response as gemini_result
from relaygate.translate.openai_chat.response import decode_finish as chat_finish
from relaygate.translate.openai_chat.response import decode_response as chat_result
from relaygate.types import FinishReason, ModelResult

_RESULT_OF: dict[WireFormat, Callable[[dict[str, Any], str], ModelResult]] = {
    WireFormat.OPENAI_CHAT: lambda body, model: chat_result(body),
    WireFormat.ANTHROPIC: lambda body, model: anthropic_result(body),
    WireFormat.GEMINI: gemini_result,
}


def result_of_reply(wire: WireFormat, body: bytes, model: str) -> ModelResult | None:
    """The canonical result of a relayed whole reply; None when it does not decode."""
    decoder = _RESULT_OF.get(wire)
    if decoder is None:
        return None
    try:
        parsed = orjson.loads(body)
        return decoder(parsed, model) if isinstance(parsed, dict) else None
    except Exception:  # a reply the format's decoder cannot read is simply not decoded
        return None


def _chat_finish(body: dict[str, Any]) -> FinishReason:
    return chat_finish(body["choices"][0].get("finish_reason"))


def _anthropic_finish(body: dict[str, Any]) -> FinishReason:
    if body.get("type") != "message":
        raise ValueError("not a Messages response")
    return decode_stop_reason(body.get("stop_reason"))


def _gemini_finish(body: dict[str, Any]) -> FinishReason:
    candidates = body.get("candidates") or []
    if candidates:
        return gemini_finish(candidates[0].get("finishReason"))
    if (body.get("promptFeedback") or {}).get("blockReason"):
        return FinishReason.CONTENT_FILTER
    raise ValueError("no candidates and no promptFeedback")


_FINISH_OF: dict[WireFormat, Callable[[dict[str, Any]], FinishReason]] = {
    WireFormat.OPENAI_CHAT: _chat_finish,
    WireFormat.ANTHROPIC: _anthropic_finish,
    WireFormat.GEMINI: _gemini_finish,
}


def finish_of_reply(wire: WireFormat, body: bytes) -> FinishReason | None:
    """How a relayed whole reply says it finished, read by its format's own finish decoder
    (an answer with tool calls may say `stop`, as its wire does); None when it is not a
    reply of that format. A fraction of `result_of_reply`'s work: nothing else is decoded."""
    finish = _FINISH_OF.get(wire)
    if finish is None:
        return None
    try:
        parsed = orjson.loads(body)
        return finish(parsed) if isinstance(parsed, dict) else None
    except Exception:  # as result_of_reply: a reply its format cannot read is not one
        return None
