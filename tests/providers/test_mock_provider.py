"""The offline mock provider: through the gateway with the openai SDK, and directly."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import jsonschema
import openai
import pytest

from relaygate.config import ProviderSettings, ProviderType
from relaygate.providers.mock.provider import MockProvider
from relaygate.types import Message, ModelCall, Role, TextDelta, TextPart
from tests.support.servers import GatewayProcess

WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "location": {"type": "string", "minLength": 2},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
    },
    "required": ["location", "unit", "days"],
    "additionalProperties": False,
}
ODD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "mode": {"anyOf": [{"type": "string", "enum": ["a", "b"]}, {"type": "null"}]},
        "nested": {
            "type": "object",
            "properties": {"flag": {"type": "boolean"}, "code": {"const": "X1"}},
            "required": ["flag", "code"],
        },
    },
    "required": ["tags", "ratio", "mode", "nested"],
}
CALCULATOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "a": {"type": "number"},
        "b": {"type": "number"},
        "operation": {"type": "string", "enum": ["add", "subtract", "multiply", "divide"]},
    },
    "required": ["a", "b", "operation"],
}


def _tool(name: str, schema: dict[str, Any]) -> Any:
    return {"type": "function", "function": {"name": name, "parameters": schema}}


CALCULATOR = _tool("calculator", CALCULATOR_SCHEMA)
WEATHER = _tool("get_weather", WEATHER_SCHEMA)
ODD = _tool("file_report", ODD_SCHEMA)


@pytest.fixture
def client(gateway: GatewayProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="unused", max_retries=0)


def _ask(client: openai.OpenAI, text: str, **extra: Any) -> Any:
    return client.chat.completions.create(
        model=extra.pop("model", "mock"), messages=[{"role": "user", "content": text}], **extra
    )


def test_echo_repeats_the_last_user_message(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="echo",
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "second message"},
        ],
    )
    assert reply.choices[0].message.content == "second message"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", "Hello! I am the relaygate mock model"),
        ("What is 6 * 7?", "6 * 7 = 42"),
        ("what is 10 divided by 4", "10 divided by 4 = 2.5"),
        ("tell me a story", "This is a mock reply to: tell me a story"),
    ],
)
def test_rule_based_answers(client: openai.OpenAI, text: str, expected: str) -> None:
    assert expected in _ask(client, text).choices[0].message.content


def test_calculator_call(client: openai.OpenAI) -> None:
    reply = _ask(client, "Calculate 5 + 3", tools=[CALCULATOR, WEATHER])
    calls = reply.choices[0].message.tool_calls
    assert reply.choices[0].finish_reason == "tool_calls"
    assert [call.function.name for call in calls] == ["calculator"]
    assert json.loads(calls[0].function.arguments) == {"a": 5, "b": 3, "operation": "add"}
    assert calls[0].id.startswith("call_")


def test_weather_call_has_the_location(client: openai.OpenAI) -> None:
    reply = _ask(client, "What is the weather in Paris today?", tools=[CALCULATOR, WEATHER])
    calls = reply.choices[0].message.tool_calls
    assert [call.function.name for call in calls] == ["get_weather"]
    arguments = json.loads(calls[0].function.arguments)
    assert arguments["location"] == "Paris"
    jsonschema.validate(arguments, WEATHER_SCHEMA)


def test_no_tool_when_the_prompt_does_not_ask(client: openai.OpenAI) -> None:
    reply = _ask(client, "tell me a joke", tools=[CALCULATOR, WEATHER])
    assert reply.choices[0].message.tool_calls is None
    assert reply.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("tool", [WEATHER, ODD, CALCULATOR])
def test_tool_choice_required_gives_schema_valid_arguments(
    client: openai.OpenAI, tool: Any
) -> None:
    reply = _ask(client, "tell me a joke", tools=[tool], tool_choice="required")
    calls = reply.choices[0].message.tool_calls
    assert calls and calls[0].function.name == tool["function"]["name"]
    jsonschema.validate(json.loads(calls[0].function.arguments), tool["function"]["parameters"])


def test_named_tool_choice_calls_that_tool(client: openai.OpenAI) -> None:
    reply = _ask(
        client,
        "Calculate 5 + 3",
        tools=[CALCULATOR, WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    calls = reply.choices[0].message.tool_calls
    assert [call.function.name for call in calls] == ["get_weather"]
    jsonschema.validate(json.loads(calls[0].function.arguments), WEATHER_SCHEMA)


def test_tool_choice_none_never_calls(client: openai.OpenAI) -> None:
    reply = _ask(client, "Calculate 5 + 3", tools=[CALCULATOR], tool_choice="none")
    assert reply.choices[0].message.tool_calls is None
    assert "5 + 3 = 8" in reply.choices[0].message.content


def test_answers_after_a_tool_result(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="mock",
        messages=[
            {"role": "user", "content": "Calculate 5 + 3"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "calculator", "arguments": '{"a":5,"b":3}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": '{"result": 8}'},
        ],
        tools=[CALCULATOR],
    )
    assert reply.choices[0].message.content == "The result is 8."
    assert reply.choices[0].finish_reason == "stop"


def test_max_tokens_cuts_with_finish_reason_length(client: openai.OpenAI) -> None:
    text = "one two three four five six seven eight nine ten"
    reply = _ask(client, text, model="echo", max_tokens=3)
    assert reply.choices[0].finish_reason == "length"
    assert reply.choices[0].message.content == "one two three"
    assert reply.usage.completion_tokens == 3


def test_stop_sequence_cuts_the_answer(client: openai.OpenAI) -> None:
    reply = _ask(client, "alpha beta STOP gamma", model="echo", stop=["STOP"])
    assert reply.choices[0].message.content == "alpha beta "
    assert reply.choices[0].finish_reason == "stop"


def test_usage_is_reported(client: openai.OpenAI) -> None:
    reply = _ask(client, "count these four words", model="echo")
    usage = reply.usage
    assert usage.completion_tokens == 4
    assert usage.prompt_tokens >= 4 + 3  # the words plus OpenAI's framing
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_image_parts_are_accepted(client: openai.OpenAI) -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    reply = client.chat.completions.create(
        model="mock",
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "what are these?"}, image, image]}
        ],
    )
    assert "I received 2 images." in reply.choices[0].message.content
    assert reply.usage.prompt_tokens > 2 * 85  # images are charged


def test_streaming_is_word_by_word(client: openai.OpenAI) -> None:
    stream = _ask(client, "one two three four", model="echo", stream=True)
    pieces = [
        c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content
    ]
    assert pieces == ["one ", "two ", "three ", "four"]


async def test_stream_delay_is_applied_per_word() -> None:
    provider = MockProvider("slow", ProviderSettings(type=ProviderType.MOCK, stream_delay_ms=40))
    call = ModelCall(
        model="echo", messages=[Message(Role.USER, [TextPart("a b c d e")])], stream=True
    )
    started = time.monotonic()
    arrivals = []
    async for event in provider.stream(call, "echo"):
        if isinstance(event, TextDelta):
            arrivals.append(time.monotonic() - started)
    assert len(arrivals) == 5
    assert arrivals[0] >= 0.035
    assert arrivals[-1] >= 5 * 0.035
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert min(gaps) >= 0.03
