"""The official `openai` SDK against the gateway on a real port (mock provider)."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.support.servers import GatewayProcess

CALCULATOR = {
    "type": "function",
    "function": {
        "name": "calculator",
        "description": "Do arithmetic",
        "parameters": {
            "type": "object",
            "properties": {
                "a": {"type": "number"},
                "b": {"type": "number"},
                "operation": {"type": "string", "enum": ["add", "subtract", "multiply", "divide"]},
            },
            "required": ["a", "b", "operation"],
        },
    },
}


@pytest.fixture
def client(gateway: GatewayProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="unused", max_retries=0)


def test_plain_completion(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "repeat after me"}]
    )
    assert reply.choices[0].message.content == "repeat after me"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.prompt_tokens > 0
    assert reply.usage.completion_tokens == 3


def test_streamed_completion_reassembles(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="echo",
        messages=[{"role": "user", "content": "one two three four"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three four"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == ["stop"]


def test_tool_call_round_trip(client: openai.OpenAI) -> None:
    messages: list = [{"role": "user", "content": "Calculate 5 + 3"}]
    first = client.chat.completions.create(model="mock", messages=messages, tools=[CALCULATOR])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "calculator"
    assert json.loads(call.function.arguments) == {"a": 5, "b": 3, "operation": "add"}
    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "8"},
    ]
    second = client.chat.completions.create(model="mock", messages=messages, tools=[CALCULATOR])
    assert second.choices[0].finish_reason == "stop"
    assert "8" in (second.choices[0].message.content or "")


def test_streamed_tool_call_arguments_arrive_whole(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="mock",
        messages=[{"role": "user", "content": "Calculate 12 * 4"}],
        tools=[CALCULATOR],
        stream=True,
    )
    arguments = ""
    names = []
    for chunk in stream:
        for call in chunk.choices[0].delta.tool_calls or [] if chunk.choices else []:
            if call.function and call.function.name:
                names.append(call.function.name)
            if call.function and call.function.arguments:
                arguments += call.function.arguments
    assert names == ["calculator"]
    assert json.loads(arguments) == {"a": 12, "b": 4, "operation": "multiply"}


def test_image_input_is_accepted(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="mock",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this picture?"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
                    },
                ],
            }
        ],
    )
    assert "1 image" in (reply.choices[0].message.content or "")


def test_unknown_model_raises_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.code == "model_not_found"
    assert caught.value.response.headers["x-request-id"]


def test_bad_message_raises_bad_request(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="mock", messages=[{"role": "wizard", "content": "x"}])  # type: ignore[list-item]
    assert caught.value.param == "messages[0].role"


def _fingerprint_is_absent_or_a_string(body: dict[str, object]) -> bool:
    return "system_fingerprint" not in body or isinstance(body["system_fingerprint"], str)


def test_replies_never_send_a_null_system_fingerprint(gateway: GatewayProcess) -> None:
    """OpenAI's schema types `system_fingerprint` as a string: null fails strict clients."""
    url = f"{gateway.base_url}/v1/chat/completions"
    body = {"model": "echo", "messages": [{"role": "user", "content": "one two"}]}
    whole = httpx.post(url, json=body, timeout=10).json()
    assert whole["object"] == "chat.completion"
    assert _fingerprint_is_absent_or_a_string(whole)
    with httpx.stream("POST", url, json={**body, "stream": True}, timeout=10) as reply:
        lines = [line for line in reply.iter_lines() if line.startswith("data: {")]
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines]
    assert chunks and all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert all(_fingerprint_is_absent_or_a_string(chunk) for chunk in chunks)
