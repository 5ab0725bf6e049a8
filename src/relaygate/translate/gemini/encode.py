"""Canonical ModelCall → a Gemini GenerateContentRequest (the provider side).

Consecutive turns of one role are merged, tool results become `functionResponse` parts
named after the call they answer, and JSON Schemas are narrowed to Gemini's Schema.
"""

from __future__ import annotations

import mimetypes
from typing import Any

import orjson

from relaygate.translate.gemini.request import JSON_MIME, split_data_url
from relaygate.translate.gemini.schema import to_gemini_schema
from relaygate.types import (
    ContentPart,
    ImagePart,
    Message,
    ModelCall,
    ResponseFormatType,
    Role,
    TextPart,
    ToolChoice,
    ToolChoiceMode,
)

EFFORT_BUDGETS = {"minimal": 512, "low": 1024, "medium": 8192, "high": 24576}
UNSIGNED_CALL = "skip_thought_signature_validator"


def _guess_mime(url: str, fallback: str) -> str:
    guessed, _ = mimetypes.guess_type(url.split("?", 1)[0])
    return guessed or fallback


def _encode_media(url: str, fallback_mime: str, mime: str | None = None) -> dict[str, Any]:
    inline = split_data_url(url)
    if inline is not None:
        return {"inlineData": {"mimeType": inline[0], "data": inline[1]}}
    return {"fileData": {"mimeType": mime or _guess_mime(url, fallback_mime), "fileUri": url}}


def _encode_part(part: ContentPart) -> dict[str, Any] | None:
    if isinstance(part, TextPart):
        return {"text": part.text}
    if isinstance(part, ImagePart):
        return _encode_media(part.url, "image/jpeg")
    media = part.media_type or "application/octet-stream"
    if part.data is not None:
        if part.data.startswith("data:"):
            return _encode_media(part.data, media)
        return {"inlineData": {"mimeType": media, "data": part.data}}
    uri = part.url or part.file_id
    return {"fileData": {"mimeType": media, "fileUri": uri}} if uri else None


def function_response(text: str) -> dict[str, Any]:
    """Canonical tool-result text → a functionResponse.response object."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {"result": text}
    return value if isinstance(value, dict) else {"result": value}


def _call_args(arguments: str) -> dict[str, Any]:
    try:
        value = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError:
        return {"arguments": arguments}
    return value if isinstance(value, dict) else {"value": value}


def _model_parts(message: Message) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [
        {"text": part.text} for part in message.content if isinstance(part, TextPart) and part.text
    ]
    calls: list[dict[str, Any]] = [
        {"functionCall": {"id": call.id, "name": call.name, "args": _call_args(call.arguments)}}
        for call in message.tool_calls
    ]
    if calls:
        # Thinking models want the first call of a turn signed; a turn that came from
        # another model has no signature, so it gets the one Google documents for that.
        calls[0]["thoughtSignature"] = message.reasoning_signature or UNSIGNED_CALL
    elif message.reasoning_signature and parts:
        parts[0]["thoughtSignature"] = message.reasoning_signature
    return parts + calls


def _append(contents: list[dict[str, Any]], role: str, parts: list[dict[str, Any]]) -> None:
    """Add a turn; consecutive turns of one role are merged (Gemini wants them alternating)."""
    if not parts:
        return
    if contents and contents[-1]["role"] == role:
        contents[-1]["parts"].extend(parts)
    else:
        contents.append({"role": role, "parts": parts})


def encode_contents(messages: list[Message]) -> tuple[list[dict[str, Any]], list[str]]:
    """Canonical messages → (contents, system texts)."""
    contents: list[dict[str, Any]] = []
    system: list[str] = []
    names = {call.id: call.name for message in messages for call in message.tool_calls}
    for message in messages:
        if message.role in (Role.SYSTEM, Role.DEVELOPER):
            system.append(message.text)
        elif message.role is Role.ASSISTANT:
            _append(contents, "model", _model_parts(message))
        elif message.role is Role.TOOL:
            call_id = message.tool_call_id or ""
            name = names.get(call_id) or message.name or call_id
            response = {"id": call_id, "name": name, "response": function_response(message.text)}
            _append(contents, "user", [{"functionResponse": response}])
        else:
            parts = [encoded for part in message.content if (encoded := _encode_part(part))]
            _append(contents, "user", parts)
    return contents, system


def _tool_config(choice: ToolChoice) -> dict[str, Any]:
    if choice.mode is ToolChoiceMode.NONE:
        return {"mode": "NONE"}
    if choice.mode is ToolChoiceMode.NAMED:
        return {"mode": "ANY", "allowedFunctionNames": [choice.name or ""]}
    if choice.mode is ToolChoiceMode.REQUIRED:
        config: dict[str, Any] = {"mode": "ANY"}
        if choice.allowed:
            config["allowedFunctionNames"] = list(choice.allowed)
        return config
    return {"mode": "AUTO"}


def _generation_config(call: ModelCall) -> dict[str, Any]:
    config: dict[str, Any] = {}
    optional = {
        "maxOutputTokens": call.max_tokens,
        "temperature": call.temperature,
        "topP": call.top_p,
        "topK": call.top_k,
        "seed": call.seed,
        "presencePenalty": call.presence_penalty,
        "frequencyPenalty": call.frequency_penalty,
    }
    config.update({key: value for key, value in optional.items() if value is not None})
    if call.stop:
        config["stopSequences"] = list(call.stop)
    fmt = call.response_format
    if fmt is not None and fmt.type is not ResponseFormatType.TEXT:
        config["responseMimeType"] = JSON_MIME
        if fmt.type is ResponseFormatType.JSON_SCHEMA and fmt.schema:
            config["responseSchema"] = to_gemini_schema(fmt.schema)
    budget = call.reasoning_budget
    if budget is None and call.reasoning_effort is not None:
        budget = EFFORT_BUDGETS.get(call.reasoning_effort)
    if budget is not None:
        config["thinkingConfig"] = {"thinkingBudget": budget, "includeThoughts": budget != 0}
    return config


def encode_request(call: ModelCall) -> dict[str, Any]:
    """ModelCall → an upstream generateContent body (the model goes in the URL)."""
    contents, system = encode_contents(call.messages)
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": [{"text": text} for text in system]}
    tools = call.tools
    choice = call.tool_choice
    if choice is not None and choice.mode is ToolChoiceMode.AUTO and choice.allowed is not None:
        tools = [tool for tool in tools if tool.name in choice.allowed]
    if tools:
        declarations = []
        for tool in tools:
            declaration: dict[str, Any] = {"name": tool.name}
            if tool.description:
                declaration["description"] = tool.description
            if tool.parameters.get("properties"):
                declaration["parameters"] = to_gemini_schema(tool.parameters)
            declarations.append(declaration)
        body["tools"] = [{"functionDeclarations": declarations}]
        if choice is not None:
            body["toolConfig"] = {"functionCallingConfig": _tool_config(choice)}
    config = _generation_config(call)
    if config:
        body["generationConfig"] = config
    return body
