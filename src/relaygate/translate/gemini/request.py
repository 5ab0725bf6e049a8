"""A client's Gemini GenerateContentRequest → canonical ModelCall (the front side).

Gemini names tool results by function name and only optionally by call id; canonical
calls always carry ids. Decoding gives id-less calls stable ids (`call_<name>_<n>`) and
pairs each id-less result with the oldest unanswered call of that name.
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any

import orjson

from relaygate.translate.gemini import wire
from relaygate.translate.gemini.schema import from_gemini_schema
from relaygate.translate.validation import validate_wire
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

JSON_MIME = "application/json"


def data_url(mime_type: str, data: str) -> str:
    return f"data:{mime_type};base64,{data}"


def split_data_url(url: str) -> tuple[str, str] | None:
    """`data:image/png;base64,AAAA` → ("image/png", "AAAA"); None when not a base64 data URL."""
    if not url.startswith("data:"):
        return None
    header, sep, data = url[5:].partition(",")
    if not sep or not header.endswith(";base64"):
        return None
    return header.removesuffix(";base64") or "application/octet-stream", data


def _media_part(part: wire.Part) -> ContentPart | None:
    if part.inline_data is not None:
        blob = part.inline_data
        if blob.mime_type.startswith("image/"):
            return ImagePart(url=data_url(blob.mime_type, blob.data))
        return FilePart(data=data_url(blob.mime_type, blob.data), media_type=blob.mime_type)
    if part.file_data is not None:
        mime = part.file_data.mime_type
        if mime is not None and mime.startswith("image/"):
            return ImagePart(url=part.file_data.file_uri)
        return FilePart(url=part.file_data.file_uri, media_type=mime)
    return None


def result_text(response: dict[str, Any]) -> str:
    """A functionResponse.response → the canonical tool-result text."""
    if set(response) in ({"result"}, {"output"}, {"content"}):
        value = next(iter(response.values()))
        return value if isinstance(value, str) else orjson.dumps(value).decode()
    return orjson.dumps(response).decode()


class _CallIds:
    """Ids for id-less calls, and which pending call an id-less result answers."""

    def __init__(self) -> None:
        self._pending: dict[str, deque[str]] = defaultdict(deque)
        self._count = 0

    def for_call(self, call: wire.FunctionCall) -> str:
        self._count += 1
        call_id = call.id or f"call_{call.name}_{self._count}"
        self._pending[call.name].append(call_id)
        return call_id

    def for_result(self, result: wire.FunctionResponse) -> str:
        pending = self._pending[result.name]
        if result.id:
            if result.id in pending:
                pending.remove(result.id)
            return result.id
        if pending:
            return pending.popleft()
        self._count += 1
        return f"call_{result.name}_{self._count}"


def _model_message(content: wire.Content, ids: _CallIds) -> Message:
    message = Message(Role.ASSISTANT)
    reasoning: list[str] = []
    for part in content.parts:
        if part.thought_signature and message.reasoning_signature is None:
            message.reasoning_signature = part.thought_signature
        if part.function_call is not None:
            call = part.function_call
            arguments = orjson.dumps(call.args or {}).decode()
            message.tool_calls.append(ToolCall(ids.for_call(call), call.name, arguments))
        elif part.text is not None and part.thought:
            reasoning.append(part.text)
        elif part.text is not None:
            message.content.append(TextPart(part.text))
    message.reasoning = "".join(reasoning) or None
    return message


def _user_messages(content: wire.Content, ids: _CallIds) -> list[Message]:
    """Tool results first (as canonical tool messages), then the rest as one user message."""
    messages: list[Message] = []
    parts: list[ContentPart] = []
    for part in content.parts:
        if part.function_response is not None:
            result = part.function_response
            messages.append(
                Message(
                    Role.TOOL,
                    [TextPart(result_text(result.response))],
                    tool_call_id=ids.for_result(result),
                    name=result.name,
                )
            )
        elif part.text is not None:
            parts.append(TextPart(part.text))
        else:
            media = _media_part(part)
            if media is not None:
                parts.append(media)
    if parts:
        messages.append(Message(Role.USER, parts))
    return messages


def _tool_specs(tools: list[wire.Tool] | None) -> list[ToolSpec]:
    specs = []
    for tool in tools or []:
        for declaration in tool.function_declarations or []:
            schema = declaration.parameters_json_schema or from_gemini_schema(
                declaration.parameters
            )
            specs.append(
                ToolSpec(
                    name=declaration.name,
                    description=declaration.description,
                    parameters=schema or {"type": "object", "properties": {}},
                )
            )
    return specs


def _tool_choice(config: wire.ToolConfig | None) -> ToolChoice | None:
    calling = config.function_calling_config if config else None
    if calling is None or calling.mode is None:
        return None
    allowed = calling.allowed_function_names or None
    if calling.mode == "NONE":
        return ToolChoice(ToolChoiceMode.NONE)
    if calling.mode == "ANY":
        if allowed is not None and len(allowed) == 1:
            return ToolChoice(ToolChoiceMode.NAMED, name=allowed[0])
        return ToolChoice(ToolChoiceMode.REQUIRED, allowed=allowed)
    return ToolChoice(ToolChoiceMode.AUTO, allowed=allowed)


def _response_format(config: wire.GenerationConfig) -> ResponseFormat | None:
    if config.response_mime_type != JSON_MIME:
        return None
    if config.response_json_schema is not None:
        return ResponseFormat(ResponseFormatType.JSON_SCHEMA, schema=config.response_json_schema)
    if config.response_schema is not None:
        return ResponseFormat(
            ResponseFormatType.JSON_SCHEMA, schema=from_gemini_schema(config.response_schema)
        )
    return ResponseFormat(ResponseFormatType.JSON_OBJECT)


def decode_request(body: Any, model: str, stream: bool) -> ModelCall:
    """A client's generateContent body (model from the URL) → ModelCall; raises InvalidRequest."""
    request = validate_wire(wire.GenerateContentRequest, body)
    messages: list[Message] = []
    if request.system_instruction is not None:
        text = "".join(part.text or "" for part in request.system_instruction.parts)
        messages.append(Message(Role.SYSTEM, [TextPart(text)]))
    ids = _CallIds()
    for content in request.contents:
        if content.role == "model":
            messages.append(_model_message(content, ids))
        else:
            messages.extend(_user_messages(content, ids))
    config = request.generation_config or wire.GenerationConfig()
    thinking = config.thinking_config
    return ModelCall(
        model=model,
        messages=messages,
        tools=_tool_specs(request.tools),
        tool_choice=_tool_choice(request.tool_config),
        response_format=_response_format(config),
        temperature=config.temperature,
        top_p=config.top_p,
        top_k=config.top_k,
        max_tokens=config.max_output_tokens,
        stop=list(config.stop_sequences or []),
        seed=config.seed,
        presence_penalty=config.presence_penalty,
        frequency_penalty=config.frequency_penalty,
        reasoning_effort=thinking.thinking_level if thinking else None,
        reasoning_budget=thinking.thinking_budget if thinking else None,
        stream=stream,
        include_usage=True,
    )
