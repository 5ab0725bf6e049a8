"""Golden tests: recorded Gemini samples (tests/samples/gemini) → one expected file per
target format (tests/golden/gemini). A diff here is a behaviour change to look at."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from relaygate.streaming.sse import SSEParser
from relaygate.translate.gemini.encode import encode_request
from relaygate.translate.gemini.request import decode_request
from relaygate.translate.gemini.response import decode_response
from relaygate.translate.gemini.stream import ChunkDecoder, parse_chunk
from relaygate.translate.openai_chat.request import encode_request as encode_chat_request
from relaygate.translate.openai_chat.response import encode_result as encode_chat_result
from relaygate.types import (
    Finish,
    FinishReason,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallStart,
    UsageEvent,
)

SAMPLES = Path(__file__).parents[2] / "samples" / "gemini"
GOLDEN = Path(__file__).parents[2] / "golden" / "gemini"


def load(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    "case", ["text_request", "function_call_request", "function_result_request"]
)
def test_requests(case: str) -> None:
    call = decode_request(load(SAMPLES / f"{case}.json"), "gemini-2.0-flash", False)
    assert encode_chat_request(call, "gpt-4o") == load(GOLDEN / f"{case}.to_openai_chat.json")
    assert encode_request(call) == load(GOLDEN / f"{case}.to_gemini.json")


@pytest.mark.parametrize(
    "case",
    [
        "text_response",
        "function_call_response",
        "blocked_prompt_response",
        "thinking_response",
        "safety_finish_response",
    ],
)
def test_responses(case: str) -> None:
    result = decode_response(load(SAMPLES / f"{case}.json"), "gemini-2.0-flash")
    for call in result.message.tool_calls:  # Gemini gave no id; ours are random
        assert call.id.startswith("call_")
        call.id = "call_fixed"
    result.created = 1700000000
    assert encode_chat_result(result) == load(GOLDEN / f"{case}.to_openai_chat.json")


def stream_events(name: str) -> list[Any]:
    parser, decoder, events = SSEParser(), ChunkDecoder(), []
    for event in parser.feed((SAMPLES / name).read_bytes()):
        chunk = parse_chunk(event.data)
        assert chunk is not None
        events += decoder.decode(chunk)
    return events + decoder.close()


def test_text_stream() -> None:
    events = stream_events("stream_text.sse")
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == "The sky appears blue because of Rayleigh scattering."
    usage = [e.usage for e in events if isinstance(e, UsageEvent)]
    assert [(u.input_tokens, u.output_tokens) for u in usage] == [(9, 9)]
    assert events[-1] == Finish(FinishReason.STOP)


def test_function_call_stream_arrives_whole_with_its_signature_first() -> None:
    events = stream_events("stream_function_call.sse")
    assert isinstance(events[0], ReasoningDelta) and events[0].signature
    start = next(e for e in events if isinstance(e, ToolCallStart))
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert start.name == "getWeather" and len(deltas) == 1
    assert json.loads(deltas[0].arguments) == {"location": "Tokyo"}
    usage = next(e.usage for e in events if isinstance(e, UsageEvent))
    assert (usage.output_tokens, usage.reasoning_tokens) == (118, 104)
    assert events[-1] == Finish(FinishReason.TOOL_CALLS)
