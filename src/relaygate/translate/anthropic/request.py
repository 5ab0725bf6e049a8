"""Anthropic Messages request → canonical ModelCall (the front side).

The provider side (ModelCall → upstream body) is in `encode.py`.
"""

from __future__ import annotations

from typing import Any

import orjson

from relaygate.errors import InvalidRequest, UnsupportedContent
from relaygate.translate.anthropic import wire
from relaygate.types import (
    ContentPart,
    FilePart,
    ImagePart,
    Message,
    ModelCall,
    ResponseFormat,
    ResponseFormatType,
    Role,
    TextPart,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
    ToolSpec,
)

KNOWN_FIELDS = frozenset(wire.MessagesRequest.model_fields)
_EFFORTS = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}


def _marker(control: wire.CacheControl | None) -> dict[str, Any] | None:
    return control.model_dump(exclude_none=True) if control is not None else None


def _image(block: wire.ImageBlock) -> ContentPart:
    source = block.source
    marker = _marker(block.cache_control)
    if isinstance(source, wire.Base64Source):
        url = f"data:{source.media_type};base64,{source.data}"
        return ImagePart(url=url, cache_control=marker)
    if isinstance(source, wire.UrlSource):
        return ImagePart(url=source.url, cache_control=marker)
    return FilePart(file_id=source.file_id, media_type="image/*", cache_control=marker)


def _document(block: wire.DocumentBlock, param: str) -> ContentPart:
    source = block.source
    marker = _marker(block.cache_control)
    if isinstance(source, wire.Base64Source):
        return FilePart(
            data=source.data,
            media_type=source.media_type,
            filename=block.title,
            cache_control=marker,
        )
    if isinstance(source, wire.UrlSource):
        return FilePart(url=source.url, filename=block.title, cache_control=marker)
    if isinstance(source, wire.FileSource):
        return FilePart(file_id=source.file_id, filename=block.title, cache_control=marker)
    if isinstance(source, wire.PlainTextSource):
        return TextPart(source.data, cache_control=marker)
    raise UnsupportedContent(
        "Documents with a 'content' source can only be relayed to an Anthropic upstream.",
        param=f"{param}.source",
    )


def _part(block: Any, param: str) -> ContentPart:
    """One user-side block (text, image, document) → a canonical part."""
    if isinstance(block, wire.TextBlock):
        return TextPart(block.text, cache_control=_marker(block.cache_control))
    if isinstance(block, wire.ImageBlock):
        return _image(block)
    if isinstance(block, wire.DocumentBlock):
        return _document(block, param)
    if isinstance(block, wire.ServerBlock):
        raise UnsupportedContent(
            f"Content blocks of type '{block.type}' can only be relayed to an Anthropic "
            "upstream; this model is served by another provider.",
            param=f"{param}.type",
        )
    raise InvalidRequest(
        f"Content blocks of type '{block.type}' are not allowed in this message.",
        param=f"{param}.type",
    )


def _tool_result(block: wire.ToolResultBlock, param: str) -> Message:
    content = block.content
    if content is None:
        parts: list[ContentPart] = []
    elif isinstance(content, str):
        parts = [TextPart(content)]
    else:
        parts = [_part(item, f"{param}.content[{i}]") for i, item in enumerate(content)]
    return Message(
        Role.TOOL,
        parts,
        tool_call_id=block.tool_use_id,
        cache_control=_marker(block.cache_control),
    )


def _user_turn(item: wire.InputMessage, index: int) -> list[Message]:
    """A user turn → its tool results (first, as canonical tool messages), then the rest."""
    if isinstance(item.content, str):
        return [Message(Role.USER, [TextPart(item.content)])]
    results: list[Message] = []
    parts: list[ContentPart] = []
    for position, block in enumerate(item.content):
        param = f"messages[{index}].content[{position}]"
        if isinstance(block, wire.ToolResultBlock):
            results.append(_tool_result(block, param))
        else:
            parts.append(_part(block, param))
    if parts or not results:
        results.append(Message(Role.USER, parts))
    return results


def _assistant_turn(item: wire.InputMessage, index: int) -> Message:
    if isinstance(item.content, str):
        return Message(Role.ASSISTANT, [TextPart(item.content)] if item.content else [])
    message = Message(Role.ASSISTANT)
    for position, block in enumerate(item.content):
        param = f"messages[{index}].content[{position}]"
        if isinstance(block, wire.TextBlock):
            message.content.append(TextPart(block.text, cache_control=_marker(block.cache_control)))
        elif isinstance(block, wire.ThinkingBlock):
            message.reasoning = (message.reasoning or "") + block.thinking
            message.reasoning_signature = block.signature
        elif isinstance(block, wire.ToolUseBlock):
            arguments = orjson.dumps(block.input).decode()
            message.tool_calls.append(ToolCall(id=block.id, name=block.name, arguments=arguments))
        elif isinstance(block, wire.RedactedThinkingBlock):
            continue  # opaque to every other provider; see docs/translation.md
        else:
            message.content.append(_part(block, param))
    return message


def _messages(request: wire.CountTokensRequest) -> list[Message]:
    messages: list[Message] = []
    system = request.system
    if isinstance(system, str):
        messages.append(Message(Role.SYSTEM, [TextPart(system)]))
    elif system:  # one message per block, so no format has to guess a separator
        messages += [
            Message(Role.SYSTEM, [TextPart(block.text, cache_control=_marker(block.cache_control))])
            for block in system
        ]
    for index, item in enumerate(request.messages):
        if item.role == "user":
            messages.extend(_user_turn(item, index))
        else:
            messages.append(_assistant_turn(item, index))
    return messages


def _tools(request: wire.CountTokensRequest) -> list[ToolSpec]:
    tools = []
    for index, tool in enumerate(request.tools or []):
        if isinstance(tool, wire.ServerTool):
            raise UnsupportedContent(
                f"The Anthropic server tool '{tool.type}' can only be relayed to an Anthropic "
                "upstream; this model is served by another provider.",
                param=f"tools[{index}].type",
            )
        tools.append(
            ToolSpec(
                name=tool.name,
                description=tool.description,
                parameters=tool.input_schema,
                strict=tool.strict,
                cache_control=_marker(tool.cache_control),
            )
        )
    return tools


def _tool_choice(choice: Any) -> tuple[ToolChoice | None, bool | None]:
    """(tool choice, parallel_tool_calls) from Anthropic's `tool_choice`."""
    if choice is None:
        return None, None
    parallel = None if not getattr(choice, "disable_parallel_tool_use", None) else False
    if isinstance(choice, wire.ToolChoiceTool):
        return ToolChoice(ToolChoiceMode.NAMED, name=choice.name), parallel
    if isinstance(choice, wire.ToolChoiceAny):
        return ToolChoice(ToolChoiceMode.REQUIRED), parallel
    if isinstance(choice, wire.ToolChoiceNone):
        return ToolChoice(ToolChoiceMode.NONE), None
    return ToolChoice(ToolChoiceMode.AUTO), parallel


def _output(config: wire.OutputConfig | None) -> tuple[ResponseFormat | None, str | None]:
    if config is None:
        return None, None
    effort = _EFFORTS.get(config.effort) if config.effort else None
    if config.format is None:
        return None, effort
    fmt = ResponseFormat(
        ResponseFormatType.JSON_SCHEMA, name="response", schema=config.format.schema_
    )
    return fmt, effort


def decode_prompt(body: Any) -> ModelCall:
    """A `count_tokens` body → a ModelCall holding just the prompt."""
    request = wire.validate_request(wire.CountTokensRequest, body)
    return ModelCall(model=request.model, messages=_messages(request), tools=_tools(request))


def decode_request(body: Any) -> ModelCall:
    """A client's Messages body → ModelCall; raises InvalidRequest / UnsupportedContent.

    Fields the canonical call has no slot for (`service_tier`, adaptive `thinking`, unknown
    future fields) land in `extra`; only an Anthropic upstream receives them.
    """
    request = wire.validate_request(wire.MessagesRequest, body)
    tool_choice, parallel = _tool_choice(request.tool_choice)
    response_format, effort = _output(request.output_config)
    extra = {key: value for key, value in body.items() if key not in KNOWN_FIELDS}
    budget = None
    if isinstance(request.thinking, wire.ThinkingEnabled):
        budget = request.thinking.budget_tokens
    elif isinstance(request.thinking, wire.ThinkingAdaptive):
        extra["thinking"] = body["thinking"]
    if request.service_tier is not None:
        extra["service_tier"] = request.service_tier
    return ModelCall(
        model=request.model,
        messages=_messages(request),
        tools=_tools(request),
        tool_choice=tool_choice,
        response_format=response_format,
        temperature=request.temperature,
        top_p=request.top_p,
        top_k=request.top_k,
        max_tokens=request.max_tokens,
        stop=list(request.stop_sequences or []),
        user=request.metadata.user_id if request.metadata else None,
        parallel_tool_calls=parallel,
        reasoning_effort=effort,
        reasoning_budget=budget,
        stream=bool(request.stream),
        include_usage=True,
        extra=extra,
    )
