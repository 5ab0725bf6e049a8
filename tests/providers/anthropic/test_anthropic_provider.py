"""The `anthropic` provider against a local Anthropic-speaking server, over real sockets.

Clients are the official SDKs: `openai` on /v1/chat/completions (always translated) and
`anthropic` on /v1/messages (byte relay on the fast path, translated with
`server.fast_path: false`); both module runs must behave the same.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import openai

from tests.providers.anthropic.shared import CHAT_TOOL, MESSAGES_TOOL, UPSTREAM_KEY
from tests.support.fake_anthropic import CACHE_READ_TOKENS, CALC_INPUT, FakeAnthropic
from tests.support.servers import GatewayProcess

# --- plain text, both fronts ----------------------------------------------------------


def test_chat_front_plain_reply_reaches_anthropic_with_its_headers(
    chat: openai.OpenAI, fake: FakeAnthropic
) -> None:
    reply = chat.chat.completions.create(
        model="claude-test",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hello there"},
        ],
    )
    assert reply.choices[0].message.content == "hello there [system: Be brief.]"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.completion_tokens == 5
    sent, headers = fake.requests[-1], fake.headers[-1]
    assert sent["model"] == "claude-upstream"
    assert sent["system"] == "Be brief."
    assert sent["max_tokens"] == 4096  # Anthropic requires it; the chat client gave none
    assert headers["x-api-key"] == UPSTREAM_KEY
    assert headers["anthropic-version"] == "2023-06-01"


def test_messages_front_plain_reply(
    claude: anthropic.Anthropic, fake: FakeAnthropic, gateway: GatewayProcess
) -> None:
    reply = claude.messages.create(
        model="claude-test", max_tokens=50, messages=[{"role": "user", "content": "hi you"}]
    )
    fast_path = "fast_path: true" in gateway.config_path.read_text()
    # the relay hands over the upstream's bytes, fields the translation does not carry included
    assert reply.usage.inference_geo == ("global" if fast_path else None)
    assert [block.type for block in reply.content] == ["text"]
    assert reply.content[0].text == "hi you"  # type: ignore[union-attr]
    assert reply.stop_reason == "end_turn"
    assert reply.usage.output_tokens == 2
    assert fake.requests[-1]["model"] == "claude-upstream"


def test_messages_front_defaults_max_tokens(gateway: GatewayProcess, fake: FakeAnthropic) -> None:
    body = {"model": "claude-test", "messages": [{"role": "user", "content": "no limit given"}]}
    reply = httpx.post(f"{gateway.base_url}/v1/messages", json=body, timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.json()["content"][0]["text"] == "no limit given"
    assert fake.requests[-1]["max_tokens"] == 4096


def test_stop_sequence_both_fronts(
    chat: openai.OpenAI, claude: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    reply = claude.messages.create(
        model="claude-test",
        max_tokens=50,
        stop_sequences=[", 5"],
        messages=[{"role": "user", "content": "1, 2, 3, 4, 5, 6"}],
    )
    assert reply.stop_reason == "stop_sequence" and reply.stop_sequence == ", 5"
    assert reply.content[0].text == "1, 2, 3, 4"  # type: ignore[union-attr]
    chat_reply = chat.chat.completions.create(
        model="claude-test", stop=[", 5"], messages=[{"role": "user", "content": "1, 2, 3, 4, 5"}]
    )
    assert chat_reply.choices[0].message.content == "1, 2, 3, 4"
    assert chat_reply.choices[0].finish_reason == "stop"
    assert fake.requests[-1]["stop_sequences"] == [", 5"]


def test_max_tokens_stop_both_fronts(chat: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    reply = claude.messages.create(
        model="claude-test", max_tokens=2, messages=[{"role": "user", "content": "a b c d"}]
    )
    assert reply.stop_reason == "max_tokens"
    chat_reply = chat.chat.completions.create(
        model="claude-test", max_tokens=2, messages=[{"role": "user", "content": "a b c d"}]
    )
    assert chat_reply.choices[0].finish_reason == "length"


# --- streaming --------------------------------------------------------------------------


def test_chat_front_stream_with_usage(chat: openai.OpenAI) -> None:
    stream = chat.chat.completions.create(
        model="claude-test",
        messages=[{"role": "user", "content": "one two three four"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "one two three four"
    )
    assert [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ] == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4


def test_messages_front_stream(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model="claude-test",
        max_tokens=50,
        messages=[{"role": "user", "content": "alpha beta gamma"}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "alpha beta gamma"
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 3 and final.usage.input_tokens > 0


# --- tools: input_json_delta fragments, tool results merged into one user turn ----------


def test_chat_front_tool_call_and_result(chat: openai.OpenAI, fake: FakeAnthropic) -> None:
    messages: list[Any] = [{"role": "user", "content": "Calculate 5 + 3"}]
    first = chat.chat.completions.create(model="claude-test", messages=messages, tools=[CHAT_TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "I'll calculate that."
    call = choice.message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "calculator"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == CALC_INPUT  # type: ignore[union-attr]
    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "8"},
    ]
    second = chat.chat.completions.create(model="claude-test", messages=messages, tools=[CHAT_TOOL])
    assert second.choices[0].message.content == "The result is 8."
    turns = fake.requests[-1]["messages"]
    assert [turn["role"] for turn in turns] == ["user", "assistant", "user"]
    assert turns[2]["content"][0]["type"] == "tool_result"


def test_chat_front_streamed_tool_arguments_arrive_whole(chat: openai.OpenAI) -> None:
    stream = chat.chat.completions.create(
        model="claude-test",
        messages=[{"role": "user", "content": "Calculate 5 + 3"}],
        tools=[CHAT_TOOL],
        stream=True,
    )
    arguments, names, finishes = "", [], []
    for chunk in stream:
        if not chunk.choices:
            continue
        for call in chunk.choices[0].delta.tool_calls or []:
            if call.function and call.function.name:
                names.append(call.function.name)
            if call.function and call.function.arguments:
                arguments += call.function.arguments
        if chunk.choices[0].finish_reason:
            finishes.append(chunk.choices[0].finish_reason)
    assert names == ["calculator"]
    assert json.loads(arguments) == CALC_INPUT
    assert finishes == ["tool_calls"]


def test_chat_front_parallel_results_become_one_user_turn(
    chat: openai.OpenAI, fake: FakeAnthropic
) -> None:
    calls = [
        {
            "id": f"call_{i}",
            "type": "function",
            "function": {"name": "calculator", "arguments": "{}"},
        }
        for i in range(2)
    ]
    reply = chat.chat.completions.create(
        model="claude-test",
        tools=[CHAT_TOOL],
        messages=[
            {"role": "user", "content": "Calculate twice"},
            {"role": "assistant", "content": None, "tool_calls": calls},
            {"role": "tool", "tool_call_id": "call_0", "content": "1"},
            {"role": "tool", "tool_call_id": "call_1", "content": "2"},
        ],
    )
    assert reply.choices[0].message.content == "The result is 2."
    last = fake.requests[-1]["messages"][-1]
    assert [block["tool_use_id"] for block in last["content"]] == ["call_0", "call_1"]


def test_messages_front_streamed_tool_use(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model="claude-test",
        max_tokens=200,
        tools=[MESSAGES_TOOL],
        messages=[{"role": "user", "content": "Calculate 5 + 3"}],
    ) as stream:
        fragments = [
            event.partial_json
            for event in stream
            if event.type == "input_json"  # type: ignore[union-attr]
        ]
        final = stream.get_final_message()
    assert json.loads("".join(fragments)) == CALC_INPUT
    assert final.stop_reason == "tool_use"
    tool = final.content[-1]
    assert tool.type == "tool_use" and tool.input == CALC_INPUT


# --- thinking, with signatures round-tripped --------------------------------------------


def test_messages_front_thinking_round_trip(
    claude: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    thinking: Any = {"type": "enabled", "budget_tokens": 1024}
    question: Any = {"role": "user", "content": "Calculate 5 + 3"}
    first = claude.messages.create(
        model="claude-test",
        max_tokens=2048,
        thinking=thinking,
        tools=[MESSAGES_TOOL],
        messages=[question],
    )
    assert [block.type for block in first.content] == ["thinking", "text", "tool_use"]
    assert first.content[0].signature == "sig_fake_1"  # type: ignore[union-attr]
    assert first.content[0].thinking == "Thinking about: Calculate 5 + 3"  # type: ignore[union-attr]
    tool = first.content[2]
    second = claude.messages.create(
        model="claude-test",
        max_tokens=2048,
        thinking=thinking,
        tools=[MESSAGES_TOOL],
        messages=[
            question,
            {
                "role": "assistant",
                "content": [b.model_dump(exclude_none=True) for b in first.content],
            },  # type: ignore[misc]
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": tool.id, "content": "8"}],
            },  # type: ignore[union-attr]
        ],
    )
    assert second.content[-1].text == "The result is 8."  # type: ignore[union-attr]
    sent = fake.requests[-1]
    assert sent["thinking"] == thinking
    assert sent["messages"][1]["content"][0] == {
        "type": "thinking",
        "thinking": "Thinking about: Calculate 5 + 3",
        "signature": "sig_fake_1",
    }


def test_messages_front_streamed_thinking(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model="claude-test",
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "why is the sky blue"}],
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].type == "thinking"
    assert final.content[0].thinking == "Thinking about: why is the sky blue"
    assert final.content[0].signature == "sig_fake_1"
    assert final.content[1].text == "why is the sky blue"  # type: ignore[union-attr]


def test_chat_front_reasoning_effort_becomes_a_thinking_budget(
    chat: openai.OpenAI, fake: FakeAnthropic
) -> None:
    reply = chat.chat.completions.create(
        model="claude-test",
        reasoning_effort="low",
        messages=[{"role": "user", "content": "ponder"}],
    )
    assert fake.requests[-1]["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert reply.choices[0].message.content == "ponder"
    assert reply.choices[0].message.reasoning_content == "Thinking about: ponder"  # type: ignore[attr-defined]


# --- prompt caching markers and cache usage ---------------------------------------------


def test_cache_markers_pass_through_and_cache_usage_comes_back(
    claude: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    system: Any = [
        {"type": "text", "text": "Long context.", "cache_control": {"type": "ephemeral"}}
    ]
    reply = claude.messages.create(
        model="claude-test",
        max_tokens=50,
        system=system,
        messages=[{"role": "user", "content": "q"}],
    )
    assert fake.requests[-1]["system"] == system
    assert reply.usage.cache_read_input_tokens == CACHE_READ_TOKENS


def test_image_from_the_chat_front_is_sent_as_base64(
    chat: openai.OpenAI, fake: FakeAnthropic
) -> None:
    reply = chat.chat.completions.create(
        model="claude-test",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
                    },
                ],
            }
        ],
    )
    assert reply.choices[0].message.content == "What is this? [1 image(s)]"
    image = fake.requests[-1]["messages"][0]["content"][1]
    assert image == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
    }
