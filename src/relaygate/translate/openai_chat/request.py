"""OpenAI Chat Completions request ↔ canonical ModelCall."""

from __future__ import annotations

from typing import Any

from relaygate.errors import UnsupportedContent
from relaygate.translate.openai_chat import wire
from relaygate.translate.validation import validate_wire
from relaygate.types import (
    ContentPart,
    FilePart,
    ImagePart,
    Message,
    ModelCall,
    Prompt,
    ResponseFormat,
    ResponseFormatType,
    Role,
    TextPart,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
    ToolSpec,
)

_KNOWN_FIELDS = frozenset(wire.ChatRequest.model_fields) | {"stream_options"}


def _text_parts(content: str | list[wire.TextPart] | None) -> list[ContentPart]:
    if content is None:
        return []
    if isinstance(content, str):
        return [TextPart(content)]
    return [TextPart(part.text) for part in content]


def user_parts(content: str | list[wire.UserPart], param: str) -> list[ContentPart]:
    """A user message's content as canonical parts; audio is refused (`param` names it)."""
    if isinstance(content, str):
        return [TextPart(content)]
    parts: list[ContentPart] = []
    for position, part in enumerate(content):
        if isinstance(part, wire.TextPart):
            parts.append(TextPart(part.text))
        elif isinstance(part, wire.ImagePart):
            parts.append(ImagePart(url=part.image_url.url, detail=part.image_url.detail))
        elif isinstance(part, wire.FilePart):
            parts.append(
                FilePart(
                    data=part.file.file_data,
                    file_id=part.file.file_id,
                    filename=part.file.filename,
                )
            )
        else:
            raise UnsupportedContent(
                "Audio input is not supported by this gateway.",
                param=f"{param}[{position}]",
            )
    return parts


def _message(item: wire.ChatMessage, index: int) -> Message:
    if isinstance(item, wire.SystemMessage):
        return Message(Role.SYSTEM, _text_parts(item.content), name=item.name)
    if isinstance(item, wire.DeveloperMessage):
        return Message(Role.DEVELOPER, _text_parts(item.content), name=item.name)
    if isinstance(item, wire.UserMessage):
        return Message(
            Role.USER, user_parts(item.content, f"messages[{index}].content"), name=item.name
        )
    if isinstance(item, wire.AssistantMessage):
        if isinstance(item.content, list):
            content: list[ContentPart] = [
                TextPart(part.text) for part in item.content if isinstance(part, wire.TextPart)
            ]
        else:
            content = _text_parts(item.content)
        calls = [
            ToolCall(id=call.id, name=call.function.name, arguments=call.function.arguments)
            for call in item.tool_calls or []
        ]
        return Message(
            Role.ASSISTANT,
            content,
            tool_calls=calls,
            name=item.name,
            reasoning=item.reasoning_content,
        )
    if isinstance(item, wire.ToolMessage):
        return Message(Role.TOOL, _text_parts(item.content), tool_call_id=item.tool_call_id)
    return Message(Role.TOOL, _text_parts(item.content), tool_call_id=item.name, name=item.name)


def _tool_choice(choice: str | wire.NamedToolChoice | None) -> ToolChoice | None:
    if choice is None:
        return None
    if isinstance(choice, wire.NamedToolChoice):
        return ToolChoice(ToolChoiceMode.NAMED, name=choice.function.name)
    return ToolChoice(ToolChoiceMode(choice))


def _response_format(fmt: wire.ResponseFormat | None) -> ResponseFormat | None:
    if fmt is None:
        return None
    schema = fmt.json_schema
    return ResponseFormat(
        type=ResponseFormatType(fmt.type),
        name=schema.name if schema else None,
        schema=schema.schema_ if schema else None,
        strict=schema.strict if schema else None,
        description=schema.description if schema else None,
    )


def _tools(request: wire.ChatRequest) -> list[ToolSpec]:
    return [
        ToolSpec(
            name=tool.function.name,
            description=tool.function.description,
            parameters=tool.function.parameters or {"type": "object", "properties": {}},
            strict=tool.function.strict,
        )
        for tool in request.tools or []
    ]


def decode_request(body: Any) -> ModelCall:
    """A client's Chat Completions body → ModelCall; raises InvalidRequest."""
    request = validate_wire(wire.ChatRequest, body, wire.MESSAGE_TAGS)
    stop = request.stop
    return ModelCall(
        model=request.model,
        messages=[_message(item, index) for index, item in enumerate(request.messages)],
        tools=_tools(request),
        tool_choice=_tool_choice(request.tool_choice),
        response_format=_response_format(request.response_format),
        temperature=request.temperature,
        top_p=request.top_p,
        max_tokens=request.max_completion_tokens or request.max_tokens,
        stop=[stop] if isinstance(stop, str) else list(stop or []),
        seed=request.seed,
        user=request.user,
        metadata=dict(request.metadata or {}),
        parallel_tool_calls=request.parallel_tool_calls,
        presence_penalty=request.presence_penalty,
        frequency_penalty=request.frequency_penalty,
        reasoning_effort=request.reasoning_effort,
        stream=bool(request.stream),
        include_usage=bool(request.stream_options and request.stream_options.include_usage),
        extra={key: value for key, value in body.items() if key not in _KNOWN_FIELDS},
    )


# --- the prompt alone, for a relayed call's worst case --------------------------------


def read_prompt(body: Any) -> Prompt:
    """A client's body checked as `decode_request` checks it (the same errors), and only
    its messages, tools and max_tokens decoded: what a relayed call's worst case needs."""
    request = validate_wire(wire.ChatRequest, body, wire.MESSAGE_TAGS)
    return Prompt([_message(item, index) for index, item in enumerate(request.messages)],
                  _tools(request), request.max_completion_tokens or request.max_tokens)


# --- canonical → wire (the provider side) -----------------------------------------


def encode_part(part: ContentPart) -> dict[str, Any]:
    """A canonical content part as an OpenAI Chat content part."""
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImagePart):
        image: dict[str, Any] = {"url": part.url}
        if part.detail:
            image["detail"] = part.detail
        return {"type": "image_url", "image_url": image}
    file: dict[str, Any] = {}
    if part.data is not None:
        media = part.media_type or "application/octet-stream"
        file["file_data"] = (
            part.data if part.data.startswith("data:") else (f"data:{media};base64,{part.data}")
        )
    if part.file_id is not None:
        file["file_id"] = part.file_id
    if part.filename is not None:
        file["filename"] = part.filename
    return {"type": "file", "file": file}


def _encode_content(message: Message) -> str | list[dict[str, Any]]:
    if all(isinstance(part, TextPart) for part in message.content):
        return message.text
    return [encode_part(part) for part in message.content]


def encode_message(message: Message) -> dict[str, Any]:
    encoded: dict[str, Any] = {"role": message.role.value}
    if message.role is Role.ASSISTANT:
        encoded["content"] = message.text if message.content else None
        if message.tool_calls:
            encoded["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in message.tool_calls
            ]
    elif message.role is Role.TOOL:
        encoded["content"] = message.text
        encoded["tool_call_id"] = message.tool_call_id or ""
    else:
        encoded["content"] = _encode_content(message)
    if message.name and message.role is not Role.TOOL:
        encoded["name"] = message.name
    return encoded


def _encode_tool_choice(choice: ToolChoice) -> str | dict[str, Any]:
    if choice.mode is ToolChoiceMode.NAMED:
        return {"type": "function", "function": {"name": choice.name}}
    return choice.mode.value


def _encode_response_format(fmt: ResponseFormat) -> dict[str, Any]:
    if fmt.type is not ResponseFormatType.JSON_SCHEMA:
        return {"type": fmt.type.value}
    schema: dict[str, Any] = {"name": fmt.name or "response", "schema": fmt.schema or {}}
    if fmt.strict is not None:
        schema["strict"] = fmt.strict
    if fmt.description:
        schema["description"] = fmt.description
    return {"type": "json_schema", "json_schema": schema}


def encode_request(call: ModelCall, upstream_model: str) -> dict[str, Any]:
    """ModelCall → an upstream Chat Completions body."""
    body: dict[str, Any] = {
        "model": upstream_model,
        "messages": [encode_message(message) for message in call.messages],
    }
    if call.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    key: value
                    for key, value in (
                        ("name", tool.name),
                        ("description", tool.description),
                        ("parameters", tool.parameters),
                        ("strict", tool.strict),
                    )
                    if value is not None
                },
            }
            for tool in call.tools
        ]
    if call.tool_choice is not None:
        body["tool_choice"] = _encode_tool_choice(call.tool_choice)
    if call.response_format is not None:
        body["response_format"] = _encode_response_format(call.response_format)
    optional = {
        "temperature": call.temperature,
        "top_p": call.top_p,
        "max_tokens": call.max_tokens,
        "seed": call.seed,
        "user": call.user,
        "parallel_tool_calls": call.parallel_tool_calls,
        "presence_penalty": call.presence_penalty,
        "frequency_penalty": call.frequency_penalty,
        "reasoning_effort": call.reasoning_effort,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    if call.stop:
        body["stop"] = call.stop
    if call.metadata:
        body["metadata"] = call.metadata
    if call.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    body.update(call.extra)
    return body
