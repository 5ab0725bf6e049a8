"""A relayed whole reply, in its wire format, as the canonical result (the cache, span
content)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from relaygate.providers.base import WireFormat
from relaygate.translate.anthropic.response import decode_response as anthropic_result
from relaygate.translate.gemini.response import decode_response as gemini_result
from relaygate.translate.openai_chat.response import decode_response as chat_result
from relaygate.types import ModelResult

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
