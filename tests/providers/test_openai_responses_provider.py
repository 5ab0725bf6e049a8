"""The `openai_responses` provider against a local server speaking OpenAI's Responses
wire format, over real sockets: send, stream, tool calls, limits, error mapping."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from relaygate.config import ProviderSettings, ProviderType, TimeoutSettings
from relaygate.errors import RateLimited, UpstreamError, UpstreamRejected
from relaygate.providers.openai_responses import OpenAIResponsesProvider
from relaygate.types import (
    FinishReason,
    Message,
    ModelCall,
    Role,
    TextDelta,
    TextPart,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    ToolSpec,
    UsageEvent,
)
from tests.support.fake_responses import CALC_ARGS, FakeResponses
from tests.support.servers import ThreadedServer

CALC = ToolSpec("calculator", "Arithmetic", {"type": "object", "properties": {
    "a": {"type": "number"}, "b": {"type": "number"}, "operation": {"type": "string"}}})


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeResponses, ThreadedServer]]:
    server_app = FakeResponses()
    with ThreadedServer(server_app.app) as server:
        yield server_app, server


def _provider(server: ThreadedServer) -> OpenAIResponsesProvider:
    settings = ProviderSettings(type=ProviderType.OPENAI_RESPONSES,
                                base_url=f"{server.base_url}/v1", api_key="sk-up-secret",
                                timeout=TimeoutSettings(connect=1, read=2))
    return OpenAIResponsesProvider("up", settings)


def _call(text: str, **fields: object) -> ModelCall:
    messages = [Message(Role.SYSTEM, [TextPart("Be kind.")]), Message(Role.USER, [TextPart(text)])]
    return ModelCall(model="gpt-x", messages=messages, **fields)  # type: ignore[arg-type]


async def test_send_text_with_instructions(fake: tuple[FakeResponses, ThreadedServer]) -> None:
    app, server = fake
    provider = _provider(server)
    try:
        result = await provider.send(_call("hello world"), "gpt-up")
    finally:
        await provider.close()
    assert result.message.text == "hello world [instructions: Be kind.]"
    assert result.finish_reason is FinishReason.STOP
    assert result.usage.output_tokens > 0
    sent = app.requests[-1]
    assert sent["model"] == "gpt-up" and sent["store"] is False and "stream" not in sent
    assert sent["instructions"] == "Be kind."
    assert sent["input"] == [{"type": "message", "role": "user",
                              "content": [{"type": "input_text", "text": "hello world"}]}]
    assert app.headers[-1]["authorization"] == "Bearer sk-up-secret"


async def test_send_tool_call_and_result_round_trip(
    fake: tuple[FakeResponses, ThreadedServer],
) -> None:
    app, server = fake
    provider = _provider(server)
    try:
        first = await provider.send(_call("Calculate 5 + 3", tools=[CALC]), "gpt-up")
        assert first.finish_reason is FinishReason.TOOL_CALLS
        assert first.message.tool_calls == [ToolCall("call_fake_1", "calculator", CALC_ARGS)]
        follow = _call("Calculate 5 + 3", tools=[CALC])
        follow.messages += [first.message,
                            Message(Role.TOOL, [TextPart("8")], tool_call_id="call_fake_1")]
        second = await provider.send(follow, "gpt-up")
    finally:
        await provider.close()
    assert second.message.text == "The result is 8."
    assert app.requests[-1]["input"][-2:] == [
        {"type": "function_call", "call_id": "call_fake_1", "name": "calculator",
         "arguments": CALC_ARGS},
        {"type": "function_call_output", "call_id": "call_fake_1", "output": "8"},
    ]


async def test_stream_text_and_tool_arguments_arrive_whole(
    fake: tuple[FakeResponses, ThreadedServer],
) -> None:
    _, server = fake
    provider = _provider(server)
    try:
        text_events = [e async for e in provider.stream(_call("one two three", stream=True), "m")]
        tool_events = [e async for e in provider.stream(
            _call("Calculate it", tools=[CALC], stream=True), "m")]
    finally:
        await provider.close()
    text = "".join(e.text for e in text_events if isinstance(e, TextDelta))
    assert text == "one two three [instructions: Be kind.]"
    assert any(isinstance(e, UsageEvent) and e.usage.output_tokens for e in text_events)
    starts = [e for e in tool_events if isinstance(e, ToolCallStart)]
    assert [(s.id, s.name) for s in starts] == [("call_fake_1", "calculator")]
    arguments = "".join(e.arguments for e in tool_events if isinstance(e, ToolCallDelta))
    assert json.loads(arguments) == json.loads(CALC_ARGS)
    assert getattr(tool_events[-1], "reason", None) is FinishReason.TOOL_CALLS


async def test_incomplete_maps_to_length(fake: tuple[FakeResponses, ThreadedServer]) -> None:
    _, server = fake
    provider = _provider(server)
    try:
        result = await provider.send(_call("a b c d e f", max_tokens=16), "m")
    finally:
        await provider.close()
    assert result.finish_reason is FinishReason.LENGTH
    assert result.message.text == "a b"


@pytest.mark.parametrize(
    ("model", "error"),
    [("fail-400", UpstreamRejected), ("fail-429", RateLimited), ("fail-500", UpstreamError),
     ("malformed", UpstreamError)],
)
async def test_failures_map_into_the_error_tree(
    fake: tuple[FakeResponses, ThreadedServer], model: str, error: type[Exception]
) -> None:
    _, server = fake
    provider = _provider(server)
    try:
        with pytest.raises(error) as caught:
            await provider.send(_call("x"), model)
        with pytest.raises(error):
            [e async for e in provider.stream(_call("x", stream=True), model)]
    finally:
        await provider.close()
    if model == "fail-429":
        assert isinstance(caught.value, RateLimited) and caught.value.retry_after == 3
