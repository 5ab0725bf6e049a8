"""One client per front for the front × provider matrix (tests/test_matrix.py).

A `Case` is a conversation in neutral form (tests/support/matrix_cases.py); each front's
client turns it into that front's request (with the official SDK where one exists) and
reads the answer back into an `Outcome`, so one set of assertions covers every front.
Chat and Anthropic clients are here; Gemini and Responses in matrix_clients_more.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.support.matrix_cases import (
    CALCULATOR_SCHEMA,
    TOOL_DESCRIPTION,
    TOOL_NAME,
    Call,
    Case,
    Outcome,
    anthropic_client,
    openai_client,
)
from tests.support.matrix_clients_more import (
    gemini_send,
    gemini_stream,
    responses_send,
    responses_stream,
)

# --- OpenAI Chat Completions --------------------------------------------------------


def _chat_messages(case: Case) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": case.system}] if case.system else []
    for m in case.messages:
        if m.kind == "user":
            content: Any = m.text
            if m.image:
                url = f"data:image/png;base64,{m.image}"
                content = [
                    {"type": "text", "text": m.text},
                    {"type": "image_url", "image_url": {"url": url}},
                ]
            out.append({"role": "user", "content": content})
        elif m.kind == "assistant":
            out.append({"role": "assistant", "content": m.text})
        elif m.kind == "call" and m.call:
            function = {"name": m.call.name, "arguments": m.call.arguments}
            out.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": m.call.id, "type": "function", "function": function}],
                }
            )
        elif m.kind == "tool" and m.call:
            out.append({"role": "tool", "tool_call_id": m.call.id, "content": m.text})
    return out


def _chat_args(model: str, case: Case) -> dict[str, Any]:
    args: dict[str, Any] = {"model": model, "messages": _chat_messages(case)}
    if case.tools:
        args["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": TOOL_NAME,
                    "description": TOOL_DESCRIPTION,
                    "parameters": CALCULATOR_SCHEMA,
                },
            }
        ]
    if case.max_tokens:
        args["max_tokens"] = case.max_tokens
    return args


def chat_send(base_url: str, model: str, case: Case) -> Outcome:
    client = openai_client(base_url)
    reply = client.chat.completions.create(**_chat_args(model, case))
    choice = reply.choices[0]
    calls = [
        Call(c.id, c.function.name, c.function.arguments) for c in choice.message.tool_calls or []
    ]
    usage = reply.usage
    return Outcome(
        choice.message.content or "",
        calls,
        choice.finish_reason,
        usage.prompt_tokens if usage else 0,
        usage.completion_tokens if usage else 0,
    )


def chat_stream(base_url: str, model: str, case: Case) -> Outcome:
    client = openai_client(base_url)
    out = Outcome()
    calls: dict[int, dict[str, str]] = {}
    for chunk in client.chat.completions.create(
        **_chat_args(model, case), stream=True, stream_options={"include_usage": True}
    ):
        if chunk.usage:
            out.input_tokens, out.output_tokens = (
                chunk.usage.prompt_tokens,
                chunk.usage.completion_tokens,
            )
        for choice in chunk.choices:
            out.text += choice.delta.content or ""
            for call in choice.delta.tool_calls or []:
                entry = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                if call.id:
                    entry["id"] = call.id
                if call.function and call.function.name:
                    entry["name"] += call.function.name
                if call.function and call.function.arguments:
                    entry["arguments"] += call.function.arguments
            if choice.finish_reason:
                out.finish = choice.finish_reason
    out.calls = [Call(**calls[index]) for index in sorted(calls)]
    return out


# --- Anthropic Messages ----------------------------------------------------------------

_ANTHROPIC_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "refusal": "content_filter",
}


def _anthropic_args(model: str, case: Case) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    for m in case.messages:
        if m.kind == "user":
            blocks: list[dict[str, Any]] = [{"type": "text", "text": m.text}]
            if m.image:
                blocks.append(
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": m.image},
                    }
                )
            messages.append({"role": "user", "content": blocks})
        elif m.kind == "assistant":
            messages.append({"role": "assistant", "content": m.text})
        elif m.kind == "call" and m.call:
            messages.append(
                {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": m.call.id,
                            "name": m.call.name,
                            "input": json.loads(m.call.arguments),
                        }
                    ],
                }
            )
        elif m.kind == "tool" and m.call:
            messages.append(
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": m.call.id, "content": m.text}
                    ],
                }
            )
    args: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "max_tokens": case.max_tokens or 512,
    }
    if case.system:
        args["system"] = case.system
    if case.tools:
        args["tools"] = [
            {"name": TOOL_NAME, "description": TOOL_DESCRIPTION, "input_schema": CALCULATOR_SCHEMA}
        ]
    return args


def anthropic_send(base_url: str, model: str, case: Case) -> Outcome:
    client = anthropic_client(base_url)
    reply = client.messages.create(**_anthropic_args(model, case))
    out = Outcome(
        finish=_ANTHROPIC_FINISH.get(reply.stop_reason or "", str(reply.stop_reason)),
        input_tokens=reply.usage.input_tokens,
        output_tokens=reply.usage.output_tokens,
    )
    for block in reply.content:
        if block.type == "text":
            out.text += block.text
        elif block.type == "tool_use":
            out.calls.append(Call(block.id, block.name, json.dumps(block.input)))
    return out


def anthropic_stream(base_url: str, model: str, case: Case) -> Outcome:
    client = anthropic_client(base_url)
    out = Outcome()
    blocks: dict[int, dict[str, str]] = {}
    for event in client.messages.create(**_anthropic_args(model, case), stream=True):
        if event.type == "message_start":
            out.input_tokens = event.message.usage.input_tokens
        elif event.type == "content_block_start" and event.content_block.type == "tool_use":
            blocks[event.index] = {
                "id": event.content_block.id,
                "name": event.content_block.name,
                "arguments": "",
            }
        elif event.type == "content_block_delta":
            if event.delta.type == "text_delta":
                out.text += event.delta.text
            elif event.delta.type == "input_json_delta":
                blocks[event.index]["arguments"] += event.delta.partial_json
        elif event.type == "message_delta":
            out.finish = _ANTHROPIC_FINISH.get(
                event.delta.stop_reason or "", str(event.delta.stop_reason)
            )
            out.output_tokens = event.usage.output_tokens
            out.input_tokens = (
                event.usage.input_tokens or out.input_tokens
            )  # final usage, when given
    out.calls = [Call(**blocks[index]) for index in sorted(blocks)]
    return out


@dataclass(frozen=True)
class Front:
    name: str
    send: Callable[[str, str, Case], Outcome]
    stream: Callable[[str, str, Case], Outcome]


FRONTS = [
    Front("chat", chat_send, chat_stream),
    Front("anthropic", anthropic_send, anthropic_stream),
    Front("gemini", gemini_send, gemini_stream),
    Front("responses", responses_send, responses_stream),
]
