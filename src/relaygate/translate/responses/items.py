"""Input items → stored items (the spec's `ItemField` shapes) → canonical messages.

Every input item is normalised once, when it arrives: it gets an id and a status and
its parts take their output-side shape, so the same dicts serve the input-items list,
the stored chain, and the messages sent to any provider.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from relaygate.errors import InvalidRequest, UnsupportedContent
from relaygate.translate.responses import wire
from relaygate.translate.responses.ids import new_id
from relaygate.types import ContentPart, FilePart, ImagePart, Message, Role, TextPart, ToolCall

Item = dict[str, Any]

COMPACTION_PREFIX = "rgc1."


def _part(part: Any, param: str) -> dict[str, Any]:
    if isinstance(part, wire.InputText):
        return {"type": "input_text", "text": part.text}
    if isinstance(part, wire.OutputText):
        return {"type": "output_text", "text": part.text, "annotations": part.annotations or []}
    if isinstance(part, wire.Refusal):
        return {"type": "refusal", "refusal": part.refusal}
    if isinstance(part, wire.InputImage):
        if part.image_url is None:
            raise UnsupportedContent(
                "input_image needs an image_url (a URL or a data: URL); file_id is not supported.",
                param=f"{param}.image_url",
            )
        return {"type": "input_image", "image_url": part.image_url, "detail": part.detail or "auto"}
    if isinstance(part, wire.InputFile):
        if part.file_data is None and part.file_url is None:
            raise UnsupportedContent(
                "input_file needs file_data or file_url; file_id is not supported.", param=param
            )
        file = {"type": "input_file"}
        for key in ("filename", "file_url", "file_data"):
            value = getattr(part, key)
            if value is not None:
                file[key] = value
        return file
    raise UnsupportedContent("Video input is not supported by this gateway.", param=param)


_ROLE_PARTS = {
    "user": {"input_text", "input_image", "input_file"},
    "system": {"input_text"},
    "developer": {"input_text"},
    "assistant": {"output_text", "refusal", "input_text"},
}


def _message_item(item: wire.MessageItem, param: str) -> Item:
    if isinstance(item.content, str):
        kind = "output_text" if item.role == "assistant" else "input_text"
        parts: list[dict[str, Any]] = [{"type": kind, "text": item.content}]
        if kind == "output_text":
            parts[0]["annotations"] = []
    else:
        parts = []
        for index, part in enumerate(item.content):
            if part.type not in _ROLE_PARTS[item.role]:
                raise InvalidRequest(
                    f"Invalid content part type '{part.type}' for a {item.role} message.",
                    param=f"{param}.content[{index}].type",
                    code="invalid_value",
                )
            parts.append(_part(part, f"{param}.content[{index}]"))
    normalised: Item = {
        "type": "message",
        "id": item.id or new_id("msg"),
        "status": "completed",
        "role": item.role,
        "content": parts,
    }
    if item.phase is not None:
        normalised["phase"] = item.phase
    return normalised


def normalise_item(item: Any, param: str) -> Item:
    """One validated wire item → its stored shape (item references are kept as such)."""
    if isinstance(item, wire.MessageItem):
        return _message_item(item, param)
    if isinstance(item, wire.FunctionCallItem):
        return {
            "type": "function_call",
            "id": item.id or new_id("fc"),
            "call_id": item.call_id,
            "name": item.name,
            "arguments": item.arguments,
            "status": item.status or "completed",
        }
    if isinstance(item, wire.FunctionCallOutputItem):
        output: str | list[dict[str, Any]] = (
            item.output
            if isinstance(item.output, str)
            else [_part(part, f"{param}.output[{i}]") for i, part in enumerate(item.output)]
        )
        return {
            "type": "function_call_output",
            "id": item.id or new_id("fco"),
            "call_id": item.call_id,
            "output": output,
            "status": item.status or "completed",
        }
    if isinstance(item, wire.ReasoningItem):
        reasoning: Item = {
            "type": "reasoning",
            "id": item.id or new_id("rs"),
            "summary": [{"type": "summary_text", "text": part.text} for part in item.summary],
        }
        if item.content:
            reasoning["content"] = [
                {"type": "reasoning_text", "text": part.text} for part in item.content
            ]
        if item.encrypted_content is not None:
            reasoning["encrypted_content"] = item.encrypted_content
        return reasoning
    if isinstance(item, wire.GatewayToolCallItem):
        return {
            "type": "relaygate:tool_call",
            "id": item.id or new_id("rgtc"),
            "status": item.status or "completed",
            "call_id": item.call_id,
            "name": item.name,
            "arguments": item.arguments,
            "output": item.output,
            "error": item.error,
        }
    if isinstance(item, wire.CompactionItem):
        return {
            "type": "compaction",
            "id": item.id or new_id("cmp"),
            "encrypted_content": item.encrypted_content,
        }
    assert isinstance(item, wire.ItemReference)
    return {"type": "item_reference", "id": item.id}


def normalise_input(value: str | list[Any] | None) -> list[Item]:
    """The request's `input` → stored items (a string is one user message)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [
            {
                "type": "message",
                "id": new_id("msg"),
                "status": "completed",
                "role": "user",
                "content": [{"type": "input_text", "text": value}],
            }
        ]
    return [normalise_item(item, f"input[{index}]") for index, item in enumerate(value)]


# --- compaction summaries ---------------------------------------------------------------


def encode_compaction(summary: str) -> str:
    """The opaque `encrypted_content` of a gateway compaction item (encoded, not encrypted)."""
    payload = orjson.dumps({"summary": summary})
    return COMPACTION_PREFIX + base64.urlsafe_b64encode(payload).decode()


def decode_compaction(content: str) -> str | None:
    """The summary inside a gateway compaction item; None for a foreign one."""
    if not content.startswith(COMPACTION_PREFIX):
        return None
    try:
        data = orjson.loads(base64.urlsafe_b64decode(content[len(COMPACTION_PREFIX) :]))
    except (binascii.Error, ValueError):
        return None
    summary = data.get("summary") if isinstance(data, dict) else None
    return summary if isinstance(summary, str) else None


# --- stored items → canonical messages ----------------------------------------------------

_ROLES = {
    "user": Role.USER,
    "assistant": Role.ASSISTANT,
    "system": Role.SYSTEM,
    "developer": Role.DEVELOPER,
}


def _content(parts: list[dict[str, Any]]) -> list[ContentPart]:
    content: list[ContentPart] = []
    for part in parts:
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text"):
            content.append(TextPart(str(part.get("text", ""))))
        elif kind == "refusal":
            content.append(TextPart(str(part.get("refusal", ""))))
        elif kind == "input_image":
            detail = part.get("detail")
            content.append(ImagePart(url=str(part["image_url"]), detail=detail))
        elif kind == "input_file":
            data = part.get("file_data")
            content.append(
                FilePart(
                    data=data,
                    url=part.get("file_url"),
                    filename=part.get("filename"),
                    media_type=_media_type(data),
                )
            )
    return content


def _media_type(data: str | None) -> str | None:
    if data and data.startswith("data:"):
        return data[5:].split(";", 1)[0] or None
    return None


def _reasoning_text(item: Item) -> str:
    parts = item.get("content") or item.get("summary") or []
    return "".join(str(part.get("text", "")) for part in parts)


def items_to_messages(items: list[Item], instructions: str | None = None) -> list[Message]:
    """Stored items (in order) → canonical messages; `instructions` lead as a system message.

    Consecutive function calls join the assistant message before them; a reasoning item
    rides on the next assistant message.
    """
    messages: list[Message] = []
    if instructions:
        messages.append(Message(Role.SYSTEM, [TextPart(instructions)]))
    reasoning: tuple[str, str | None] | None = None
    open_assistant: Message | None = None  # the assistant message function calls join

    def assistant() -> Message:
        nonlocal open_assistant, reasoning
        if open_assistant is None:
            open_assistant = Message(Role.ASSISTANT)
            messages.append(open_assistant)
        if reasoning is not None:
            open_assistant.reasoning, open_assistant.reasoning_signature = reasoning
            reasoning = None
        return open_assistant

    for item in items:
        kind = item.get("type")
        if kind == "message":
            role = _ROLES[str(item["role"])]
            if role is Role.ASSISTANT:
                open_assistant = None
                assistant().content.extend(_content(item["content"]))
                continue
            open_assistant = None
            messages.append(Message(role, _content(item["content"])))
        elif kind == "function_call":
            call = ToolCall(str(item["call_id"]), str(item["name"]), str(item["arguments"]))
            assistant().tool_calls.append(call)
        elif kind == "function_call_output":
            output = item["output"]
            parts: list[ContentPart] = (
                [TextPart(output)] if isinstance(output, str) else _content(output)
            )
            messages.append(Message(Role.TOOL, parts, tool_call_id=str(item["call_id"])))
            open_assistant = None
        elif kind == "relaygate:tool_call":  # a gateway tool the gateway ran: call + result
            call = ToolCall(str(item["call_id"]), str(item["name"]), str(item["arguments"]))
            assistant().tool_calls.append(call)
            result = item.get("output") if item.get("error") is None else item.get("error")
            messages.append(
                Message(Role.TOOL, [TextPart(str(result or ""))], tool_call_id=call.id,
                        name=call.name)
            )
            open_assistant = None
        elif kind == "reasoning":
            open_assistant = None
            reasoning = (_reasoning_text(item), item.get("encrypted_content"))
        elif kind == "compaction":
            open_assistant = None
            summary = decode_compaction(str(item.get("encrypted_content", "")))
            if summary is not None:
                text = f"[Summary of the earlier conversation]\n{summary}"
                messages.append(Message(Role.USER, [TextPart(text)]))
    return messages
