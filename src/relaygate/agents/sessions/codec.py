"""Canonical `Message` ↔ the JSON kept in the store and shown by the API (pure).

Content parts use the OpenAI Chat shape (`text`, `image_url`, `file`); tool calls the
OpenAI `{id, type: function, function: {name, arguments}}` shape.
"""

from __future__ import annotations

from typing import Any

from relaygate.translate.openai_chat.request import encode_part as chat_part
from relaygate.types import ContentPart, FilePart, ImagePart, Message, Role, TextPart, ToolCall


def encode_part(part: ContentPart) -> dict[str, Any]:
    """A part as stored: the OpenAI Chat part, except that a file keeps every field (the
    wire form folds its media type into a data URL and has no place for a URL)."""
    if not isinstance(part, FilePart):
        return chat_part(part)
    file = {
        key: value
        for key, value in (
            ("file_data", part.data),
            ("file_id", part.file_id),
            ("url", part.url),
            ("filename", part.filename),
            ("media_type", part.media_type),
        )
        if value is not None
    }
    return {"type": "file", "file": file}


def decode_part(data: dict[str, Any]) -> ContentPart:
    kind = data.get("type")
    if kind == "image_url":
        image = data.get("image_url") or {}
        return ImagePart(url=str(image.get("url", "")), detail=image.get("detail"))
    if kind == "file":
        file = data.get("file") or {}
        return FilePart(
            data=file.get("file_data"),
            file_id=file.get("file_id"),
            url=file.get("url"),
            filename=file.get("filename"),
            media_type=file.get("media_type"),
        )
    return TextPart(str(data.get("text", "")))


def encode_tool_calls(calls: list[ToolCall]) -> list[dict[str, Any]]:
    return [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for call in calls
    ]


def decode_tool_calls(data: list[dict[str, Any]] | None) -> list[ToolCall]:
    return [
        ToolCall(
            id=str(item.get("id", "")),
            name=str((item.get("function") or {}).get("name", "")),
            arguments=str((item.get("function") or {}).get("arguments", "")),
        )
        for item in data or []
    ]


def message_from_stored(
    role: str,
    content: list[dict[str, Any]],
    tool_calls: list[dict[str, Any]] | None,
    tool_call_id: str | None,
    name: str | None,
    reasoning: str | None,
) -> Message:
    return Message(
        role=Role(role),
        content=[decode_part(part) for part in content],
        tool_calls=decode_tool_calls(tool_calls),
        tool_call_id=tool_call_id,
        name=name,
        reasoning=reasoning,
    )
