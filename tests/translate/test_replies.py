"""A relayed whole reply read two ways: whole (`result_of_reply`) and only its finish
(`finish_of_reply`, what the cache checks before keeping the bytes) agree."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from relaygate.providers.base import WireFormat
from relaygate.translate.replies import finish_of_reply, result_of_reply
from relaygate.types import FinishReason


def _chat(finish: str) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion", "model": "m", "created": 1,
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": "Paris"}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}


def _anthropic(stop: str) -> dict[str, Any]:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
            "content": [{"type": "text", "text": "Paris"}], "stop_reason": stop,
            "usage": {"input_tokens": 3, "output_tokens": 1}}


def _gemini(finish: str) -> dict[str, Any]:
    return {"candidates": [{"content": {"role": "model", "parts": [{"text": "Paris"}]},
                            "finishReason": finish}],
            "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1}}


REPLIES = [
    (WireFormat.OPENAI_CHAT, _chat("stop"), FinishReason.STOP),
    (WireFormat.OPENAI_CHAT, _chat("length"), FinishReason.LENGTH),
    (WireFormat.OPENAI_CHAT, _chat("content_filter"), FinishReason.CONTENT_FILTER),
    (WireFormat.ANTHROPIC, _anthropic("end_turn"), FinishReason.STOP),
    (WireFormat.ANTHROPIC, _anthropic("max_tokens"), FinishReason.LENGTH),
    (WireFormat.GEMINI, _gemini("STOP"), FinishReason.STOP),
    (WireFormat.GEMINI, _gemini("MAX_TOKENS"), FinishReason.LENGTH),
    (WireFormat.GEMINI, _gemini("SAFETY"), FinishReason.CONTENT_FILTER),
    (WireFormat.GEMINI, {"promptFeedback": {"blockReason": "SAFETY"}},
     FinishReason.CONTENT_FILTER),
]


@pytest.mark.parametrize(("wire", "body", "finish"), REPLIES)
def test_the_finish_alone_is_the_whole_decode_s(
    wire: WireFormat, body: dict[str, Any], finish: FinishReason
) -> None:
    data = orjson.dumps(body)
    result = result_of_reply(wire, data, "m")
    assert result is not None and result.finish_reason is finish
    assert finish_of_reply(wire, data) is finish


@pytest.mark.parametrize("wire", [WireFormat.OPENAI_CHAT, WireFormat.ANTHROPIC,
                                  WireFormat.GEMINI])
def test_a_body_that_is_not_a_reply_of_the_format_has_no_finish(wire: WireFormat) -> None:
    for data in (b"not json", b"[1, 2]", orjson.dumps({"error": {"message": "x"}})):
        assert result_of_reply(wire, data, "m") is None
        assert finish_of_reply(wire, data) is None
