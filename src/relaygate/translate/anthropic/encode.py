"""Canonical ModelCall → an upstream Anthropic Messages body (the provider side)."""

from __future__ import annotations

import re
from typing import Any

import orjson

from relaygate.errors import InvalidRequest, UnsupportedContent
from relaygate.types import (
    ContentPart,
    FilePart,
    ImagePart,
    Message,
    ModelCall,
    ResponseFormatType,
    Role,
    TextPart,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
    ToolSpec,
)

DEFAULT_MAX_TOKENS = 4096  # Anthropic requires max_tokens; every Claude model allows this
MIN_THINKING_BUDGET = 1024
# reasoning_effort from other fronts → an extended-thinking budget
EFFORT_BUDGETS = {"low": 2048, "medium": 8192, "high": 16384, "xhigh": 24576, "max": 32000}
# `extra` keys an Anthropic upstream understands; anything else in `extra` came from
# another front's format and is dropped (docs/translation.md).
PASSTHROUGH_FIELDS = frozenset(
    {
        "service_tier",
        "container",
        "cache_control",
        "context_management",
        "mcp_servers",
        "inference_geo",
        "thinking",
        "output_config",
    }
)
_DATA_URL = re.compile(r"^data:(?P<media>[^;,]+)(?:;[^,]*)?;base64,(?P<data>.*)$", re.DOTALL)
_ID_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")


def tool_id(value: str | None) -> str:
    """Anthropic tool ids must match ^[a-zA-Z0-9_-]+$; map others consistently."""
    return _ID_UNSAFE.sub("_", value) if value else "toolu_missing"


def _with_marker(block: dict[str, Any], marker: dict[str, Any] | None) -> dict[str, Any]:
    if marker is not None:
        block["cache_control"] = marker
    return block


def _image(part: ImagePart) -> dict[str, Any]:
    if part.url.startswith("data:"):
        match = _DATA_URL.match(part.url)
        if match is None:
            raise UnsupportedContent("An inline image must be a base64 data: URL.")
        source: dict[str, Any] = {
            "type": "base64",
            "media_type": match["media"],
            "data": match["data"],
        }
    else:
        source = {"type": "url", "url": part.url}
    return _with_marker({"type": "image", "source": source}, part.cache_control)


def _file(part: FilePart) -> dict[str, Any]:
    kind = "image" if (part.media_type or "").startswith("image") else "document"
    if part.data is not None:
        match = _DATA_URL.match(part.data)
        media = match["media"] if match else (part.media_type or "application/pdf")
        data = match["data"] if match else part.data
        source: dict[str, Any] = {"type": "base64", "media_type": media, "data": data}
    elif part.url is not None:
        source = {"type": "url", "url": part.url}
    elif part.file_id is not None:
        source = {"type": "file", "file_id": part.file_id}
    else:
        raise UnsupportedContent("A file part needs inline data, a URL or a file id.")
    block: dict[str, Any] = {"type": kind, "source": source}
    if kind == "document" and part.filename:
        block["title"] = part.filename
    return _with_marker(block, part.cache_control)


def encode_part(part: ContentPart) -> dict[str, Any] | None:
    """One canonical part → an Anthropic block (None for empty text, which Anthropic refuses)."""
    if isinstance(part, TextPart):
        if not part.text:
            return None
        return _with_marker({"type": "text", "text": part.text}, part.cache_control)
    if isinstance(part, ImagePart):
        return _image(part)
    return _file(part)


def _blocks(parts: list[ContentPart]) -> list[dict[str, Any]]:
    return [block for part in parts if (block := encode_part(part)) is not None]


def tool_input(call: ToolCall) -> dict[str, Any]:
    """A tool call's JSON arguments text → the object Anthropic's `input` must be."""
    if not call.arguments.strip():
        return {}
    try:
        value = orjson.loads(call.arguments)
    except orjson.JSONDecodeError:
        raise InvalidRequest(
            f"The arguments of tool call '{call.id}' are not valid JSON.", code="invalid_value"
        ) from None
    if not isinstance(value, dict):
        raise InvalidRequest(
            f"The arguments of tool call '{call.id}' must be a JSON object.", code="invalid_value"
        )
    return value


def _assistant_blocks(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if message.reasoning is not None and message.reasoning_signature:
        blocks.append(
            {
                "type": "thinking",
                "thinking": message.reasoning,
                "signature": message.reasoning_signature,
            }
        )
    blocks += _blocks(message.content)
    blocks += [
        {"type": "tool_use", "id": tool_id(call.id), "name": call.name, "input": tool_input(call)}
        for call in message.tool_calls
    ]
    return blocks


def _tool_result(message: Message) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_id(message.tool_call_id)}
    if all(isinstance(part, TextPart) for part in message.content):
        if message.text:
            block["content"] = message.text
    else:
        block["content"] = _blocks(message.content)
    return _with_marker(block, message.cache_control)


def encode_system(messages: list[Message]) -> str | list[dict[str, Any]] | None:
    """Every system and developer message, wherever it stood, as Anthropic's `system`."""
    parts = [
        part
        for message in messages
        if message.role in (Role.SYSTEM, Role.DEVELOPER)
        for part in message.content
    ]
    blocks = _blocks(parts)
    if not blocks:
        return None
    if len(blocks) == 1 and set(blocks[0]) == {"type", "text"}:
        return str(blocks[0]["text"])
    return blocks


def encode_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """User/assistant/tool messages → alternating turns; consecutive same-role turns merge
    (so a run of tool results becomes one user turn), tool results first in a user turn."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role in (Role.SYSTEM, Role.DEVELOPER):
            continue
        if message.role is Role.ASSISTANT:
            role, blocks = "assistant", _assistant_blocks(message)
        elif message.role is Role.TOOL:
            role, blocks = "user", [_tool_result(message)]
        else:
            role, blocks = "user", _blocks(message.content)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        if turn["role"] == "user":
            turn["content"].sort(key=lambda block: block["type"] != "tool_result")
    return turns


def _tool(tool: ToolSpec) -> dict[str, Any]:
    encoded: dict[str, Any] = {"name": tool.name}
    if tool.description:
        encoded["description"] = tool.description
    encoded["input_schema"] = tool.parameters or {"type": "object", "properties": {}}
    return _with_marker(encoded, tool.cache_control)


def _tool_choice(choice: ToolChoice | None, parallel: bool | None) -> dict[str, Any] | None:
    if choice is None:
        encoded: dict[str, Any] | None = {"type": "auto"} if parallel is False else None
    elif choice.mode is ToolChoiceMode.NAMED:
        encoded = {"type": "tool", "name": choice.name}
    elif choice.mode is ToolChoiceMode.REQUIRED:
        encoded = {"type": "any"}
    elif choice.mode is ToolChoiceMode.NONE:
        return {"type": "none"}
    else:
        encoded = {"type": "auto"}
    if encoded is not None and parallel is False:
        encoded["disable_parallel_tool_use"] = True
    return encoded


def _thinking(call: ModelCall, max_tokens: int | None) -> dict[str, Any] | None:
    """Extended thinking from the budget (or an effort), when Anthropic would accept it:
    never with a forced tool, and always below max_tokens."""
    budget = call.reasoning_budget
    if budget is None and call.reasoning_effort is not None:
        budget = EFFORT_BUDGETS.get(call.reasoning_effort)
    if budget is None or budget <= 0:
        return None
    forced = call.tool_choice is not None and call.tool_choice.mode in (
        ToolChoiceMode.REQUIRED,
        ToolChoiceMode.NAMED,
    )
    if forced and call.tools:
        return None
    budget = max(MIN_THINKING_BUDGET, budget)
    if max_tokens is not None and budget >= max_tokens:
        if max_tokens <= MIN_THINKING_BUDGET:
            return None
        budget = max_tokens - 1 if call.reasoning_budget is None else budget
    return {"type": "enabled", "budget_tokens": budget}


def encode_request(
    call: ModelCall, upstream_model: str, default_max_tokens: int = DEFAULT_MAX_TOKENS
) -> dict[str, Any]:
    """ModelCall → an upstream Messages body (without `stream`; the provider sets it)."""
    body: dict[str, Any] = {"model": upstream_model}
    thinking = _thinking(call, call.max_tokens)
    max_tokens = call.max_tokens
    if max_tokens is None:
        max_tokens = default_max_tokens
        if thinking is not None and thinking["budget_tokens"] >= max_tokens:
            max_tokens = thinking["budget_tokens"] + default_max_tokens
    body["max_tokens"] = max_tokens
    system = encode_system(call.messages)
    if system is not None:
        body["system"] = system
    body["messages"] = encode_messages(call.messages)
    tools = call.tools
    if call.tool_choice is not None and call.tool_choice.allowed is not None:
        tools = [tool for tool in tools if tool.name in call.tool_choice.allowed]
    if tools:
        body["tools"] = [_tool(tool) for tool in tools]
        choice = _tool_choice(call.tool_choice, call.parallel_tool_calls)
        if choice is not None:
            body["tool_choice"] = choice
    if thinking is not None:
        body["thinking"] = thinking
    optional: dict[str, Any] = {
        "temperature": None if call.temperature is None else min(call.temperature, 1.0),
        "top_p": call.top_p,
        "top_k": call.top_k,
    }
    if thinking is not None:  # Anthropic refuses sampling changes while thinking
        optional = {"top_p": call.top_p if (call.top_p or 0) >= 0.95 else None}
    body.update({key: value for key, value in optional.items() if value is not None})
    if call.stop:
        body["stop_sequences"] = list(call.stop)
    if call.user:
        body["metadata"] = {"user_id": call.user}
    fmt = call.response_format
    if fmt is not None and fmt.type is ResponseFormatType.JSON_SCHEMA and fmt.schema:
        body["output_config"] = {"format": {"type": "json_schema", "schema": fmt.schema}}
    for key, value in call.extra.items():
        if key not in PASSTHROUGH_FIELDS or (key == "thinking" and thinking is not None):
            continue
        if key == "output_config" and isinstance(value, dict):
            body["output_config"] = {**value, **body.get("output_config", {})}
        else:
            body[key] = value
    return body
