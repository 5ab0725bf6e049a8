"""The `gemini` provider against a local Gemini-speaking server, over real sockets."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest

from relaygate.config import ProviderSettings, ProviderType
from relaygate.errors import RateLimited, UpstreamError, UpstreamRejected, UpstreamUnavailable
from relaygate.providers.gemini import GeminiProvider
from relaygate.types import (
    Finish,
    FinishReason,
    ImagePart,
    Message,
    ModelCall,
    ReasoningDelta,
    Role,
    StreamEvent,
    TextDelta,
    TextPart,
    ToolCallDelta,
    ToolCallStart,
    ToolSpec,
    UsageEvent,
    UsageSource,
)
from tests.support.fake_gemini import CALC_ARGS, FakeGemini
from tests.support.servers import ThreadedServer

KEY = "gemini-test-key-0123456789"
CALCULATOR = ToolSpec(
    "calculator",
    "Do arithmetic",
    {
        "type": "object",
        "properties": {
            "a": {"type": "number"},
            "b": {"type": "number"},
            "operation": {"type": "string"},
        },
        "required": ["a", "b", "operation"],
        "additionalProperties": False,
    },
)


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeGemini, ThreadedServer]]:
    gemini = FakeGemini(api_key=KEY)
    with ThreadedServer(gemini.app) as server:
        yield gemini, server


@pytest.fixture
async def provider(fake: tuple[FakeGemini, ThreadedServer]) -> AsyncIterator[GeminiProvider]:
    settings = ProviderSettings(
        type=ProviderType.GEMINI, base_url=f"{fake[1].base_url}/v1beta", api_key=KEY
    )
    gemini = GeminiProvider("gem", settings)
    yield gemini
    await gemini.close()


def user(text: str) -> Message:
    return Message(Role.USER, [TextPart(text)])


async def collect(provider: GeminiProvider, call: ModelCall, model: str) -> list[StreamEvent]:
    return [event async for event in provider.stream(call, model)]


async def test_plain_text_with_key_header_and_path(
    provider: GeminiProvider, fake: tuple[FakeGemini, ThreadedServer]
) -> None:
    result = await provider.send(ModelCall("g", [user("hello there")]), "gemini-test")
    assert result.message.text == "hello there"
    assert result.finish_reason is FinishReason.STOP
    assert result.usage.source is UsageSource.UPSTREAM and result.usage.output_tokens == 2
    assert fake[0].paths[-1] == "/v1beta/models/gemini-test:generateContent"
    assert fake[0].headers[-1]["x-goog-api-key"] == KEY


async def test_system_prompt_and_images_reach_the_wire(
    provider: GeminiProvider, fake: tuple[FakeGemini, ThreadedServer]
) -> None:
    call = ModelCall(
        "g",
        [
            Message(Role.SYSTEM, [TextPart("Be brief.")]),
            Message(
                Role.USER,
                [
                    TextPart("look"),
                    ImagePart("data:image/png;base64,iVBORw0KGgo="),
                    ImagePart("https://example.com/cat.jpg"),
                ],
            ),
        ],
    )
    result = await provider.send(call, "gemini-test")
    assert result.message.text == "look [2 image(s)] [system: Be brief.]"
    sent = fake[0].requests[-1]
    assert sent["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    parts = sent["contents"][0]["parts"]
    assert parts[1] == {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
    assert parts[2] == {
        "fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/cat.jpg"}
    }


async def test_tool_call_and_result_keep_ids_and_names(
    provider: GeminiProvider, fake: tuple[FakeGemini, ThreadedServer]
) -> None:
    messages = [user("Calculate 5 + 3")]
    first = await provider.send(ModelCall("g", messages, tools=[CALCULATOR]), "gemini-test")
    assert first.finish_reason is FinishReason.TOOL_CALLS
    call = first.message.tool_calls[0]
    assert call.name == "calculator" and json.loads(call.arguments) == CALC_ARGS
    declared = fake[0].requests[-1]["tools"][0]["functionDeclarations"][0]
    assert "additionalProperties" not in declared["parameters"]
    messages += [first.message, Message(Role.TOOL, [TextPart("8")], tool_call_id=call.id)]
    second = await provider.send(ModelCall("g", messages, tools=[CALCULATOR]), "gemini-test")
    assert second.message.text == "The result is 8."
    sent = fake[0].requests[-1]["contents"]
    assert sent[1]["parts"][0]["functionCall"]["id"] == call.id
    assert sent[2]["parts"][0]["functionResponse"] == {
        "id": call.id,
        "name": "calculator",
        "response": {"result": 8},
    }


async def test_stream_text_tool_call_and_usage(
    provider: GeminiProvider, fake: tuple[FakeGemini, ThreadedServer]
) -> None:
    events = await collect(provider, ModelCall("g", [user("one two three")]), "gemini-test")
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "one two three"
    assert fake[0].paths[-1] == "/v1beta/models/gemini-test:streamGenerateContent?alt=sse"
    usage = [e.usage for e in events if isinstance(e, UsageEvent)]
    assert len(usage) == 1 and usage[0].source is UsageSource.UPSTREAM
    assert usage[0].output_tokens == 3
    assert isinstance(events[-1], Finish) and events[-1].reason is FinishReason.STOP

    call = ModelCall("g", [user("Calculate it")], tools=[CALCULATOR])
    events = await collect(provider, call, "gemini-test")
    starts = [e for e in events if isinstance(e, ToolCallStart)]
    arguments = "".join(e.arguments for e in events if isinstance(e, ToolCallDelta))
    assert [s.name for s in starts] == ["calculator"] and json.loads(arguments) == CALC_ARGS
    assert isinstance(events[-1], Finish) and events[-1].reason is FinishReason.TOOL_CALLS


async def test_missing_usage_is_counted_by_us(provider: GeminiProvider) -> None:
    call = ModelCall("g", [user("count these four words")])
    events = await collect(provider, call, "no-usage")
    usage = [e.usage for e in events if isinstance(e, UsageEvent)]
    assert len(usage) == 1 and usage[0].source is UsageSource.ESTIMATED
    assert usage[0].output_tokens >= 4 and usage[0].input_tokens > 0
    result = await provider.send(call, "no-usage")
    assert result.usage.source is UsageSource.ESTIMATED and result.usage.output_tokens >= 4


@pytest.mark.parametrize("model", ["blocked", "safety"])
async def test_safety_blocks_are_content_filter(provider: GeminiProvider, model: str) -> None:
    result = await provider.send(ModelCall("g", [user("something bad")]), model)
    assert result.finish_reason is FinishReason.CONTENT_FILTER
    events = await collect(provider, ModelCall("g", [user("something bad")]), model)
    assert isinstance(events[-1], Finish) and events[-1].reason is FinishReason.CONTENT_FILTER


async def test_max_tokens_is_length(
    provider: GeminiProvider, fake: tuple[FakeGemini, ThreadedServer]
) -> None:
    call = ModelCall("g", [user("a b c d e f")], max_tokens=2, temperature=0.5, stop=["zz"])
    result = await provider.send(call, "gemini-test")
    assert result.finish_reason is FinishReason.LENGTH and result.message.text == "a b"
    assert fake[0].requests[-1]["generationConfig"] == {
        "maxOutputTokens": 2,
        "temperature": 0.5,
        "stopSequences": ["zz"],
    }


async def test_thinking_parts_are_reasoning(provider: GeminiProvider) -> None:
    result = await provider.send(ModelCall("g", [user("think")], reasoning_budget=128), "thinking")
    assert result.message.reasoning == "Let me think about this."
    assert result.message.reasoning_signature == "c2lnbmF0dXJlLWZha2U="
    assert result.usage.reasoning_tokens == 5 and result.usage.output_tokens == 6
    events = await collect(provider, ModelCall("g", [user("think")]), "thinking")
    assert any(isinstance(e, ReasoningDelta) and e.text for e in events)


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (400, UpstreamRejected, 400),
        (401, UpstreamRejected, 400),  # Gemini answers a bad key with 400 API_KEY_INVALID
        (403, UpstreamRejected, 403),
        (404, UpstreamRejected, 404),
        (429, RateLimited, 429),
        (500, UpstreamError, 502),
        (503, UpstreamUnavailable, 503),
    ],
)
async def test_errors_map_into_the_error_tree(
    provider: GeminiProvider, status: int, error: type[Exception], code: int
) -> None:
    with pytest.raises(error) as caught:
        await provider.send(ModelCall("g", [user("x")]), f"fail-{status}")
    assert caught.value.status == code  # type: ignore[attr-defined]
    with pytest.raises(error):
        await collect(provider, ModelCall("g", [user("x")]), f"fail-{status}")


async def test_rate_limit_carries_retry_delay(provider: GeminiProvider) -> None:
    with pytest.raises(RateLimited) as caught:
        await provider.send(ModelCall("g", [user("x")]), "fail-429")
    assert caught.value.retry_after == 37
    assert "quota" in caught.value.message


async def test_wrong_key_and_broken_upstreams(fake: tuple[FakeGemini, ThreadedServer]) -> None:
    settings = ProviderSettings(
        type=ProviderType.GEMINI, base_url=f"{fake[1].base_url}/v1beta", api_key="wrong"
    )
    wrong = GeminiProvider("gem", settings)
    try:
        with pytest.raises(UpstreamRejected, match="API key not valid"):
            await wrong.send(ModelCall("g", [user("x")]), "gemini-test")
    finally:
        await wrong.close()


async def test_malformed_and_cut_streams(provider: GeminiProvider) -> None:
    with pytest.raises(UpstreamError, match="malformed"):
        await provider.send(ModelCall("g", [user("x")]), "malformed")
    with pytest.raises(UpstreamError, match="malformed stream"):
        await collect(provider, ModelCall("g", [user("x")]), "malformed")
    with pytest.raises(UpstreamError):
        await collect(provider, ModelCall("g", [user("one two three four five")]), "cut-stream")
