"""The provider side: ModelCall → a Responses request body; a Responses response or
event stream → ModelResult / canonical events (for the `openai_responses` provider)."""

from __future__ import annotations

import time
from typing import Any

from relaygate.translate.responses.request import LOGPROBS
from relaygate.types import (
    ContentPart,
    ErrorEvent,
    Finish,
    FinishReason,
    ImagePart,
    Message,
    ModelCall,
    ModelResult,
    ReasoningDelta,
    ResponseFormatType,
    Role,
    StreamEvent,
    TextDelta,
    TextPart,
    TokenLogprob,
    ToolCall,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    ToolChoiceMode,
    Usage,
    UsageEvent,
    UsageSource,
)


def _input_part(part: ContentPart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "input_text", "text": part.text}
    if isinstance(part, ImagePart):
        return {"type": "input_image", "image_url": part.url, "detail": part.detail or "auto"}
    file: dict[str, Any] = {"type": "input_file"}
    if part.data is not None:
        media = part.media_type or "application/octet-stream"
        file["file_data"] = part.data if part.data.startswith("data:") else (
            f"data:{media};base64,{part.data}"
        )
    if part.url is not None:
        file["file_url"] = part.url
    if part.file_id is not None:
        file["file_id"] = part.file_id
    if part.filename is not None:
        file["filename"] = part.filename
    return file


def _message_items(message: Message) -> list[dict[str, Any]]:
    if message.role is Role.TOOL:
        output: str | list[dict[str, Any]] = (
            message.text
            if all(isinstance(part, TextPart) for part in message.content)
            else [_input_part(part) for part in message.content]
        )
        return [{"type": "function_call_output", "call_id": message.tool_call_id or "",
                 "output": output}]
    if message.role is not Role.ASSISTANT:
        return [{"type": "message", "role": message.role.value,
                 "content": [_input_part(part) for part in message.content]}]
    items: list[dict[str, Any]] = []
    if message.reasoning_signature:  # only the provider's own opaque reasoning round-trips
        items.append({"type": "reasoning", "summary": [],
                      "encrypted_content": message.reasoning_signature})
    if message.text:
        items.append({"type": "message", "role": "assistant",
                      "content": [{"type": "output_text", "text": message.text}]})
    items += [
        {"type": "function_call", "call_id": call.id, "name": call.name,
         "arguments": call.arguments}
        for call in message.tool_calls
    ]
    return items


def _tool_choice(call: ModelCall) -> str | dict[str, Any] | None:
    choice = call.tool_choice
    if choice is None:
        return None
    if choice.allowed is not None and choice.mode is not ToolChoiceMode.NAMED:
        return {"type": "allowed_tools", "mode": choice.mode.value,
                "tools": [{"type": "function", "name": name} for name in choice.allowed]}
    if choice.mode is ToolChoiceMode.NAMED:
        return {"type": "function", "name": choice.name}
    return choice.mode.value


def _text_format(call: ModelCall) -> dict[str, Any] | None:
    fmt = call.response_format
    if fmt is None:
        return None
    if fmt.type is not ResponseFormatType.JSON_SCHEMA:
        return {"format": {"type": fmt.type.value}}
    schema: dict[str, Any] = {"type": "json_schema", "name": fmt.name or "response",
                              "schema": fmt.schema or {}}
    if fmt.strict is not None:
        schema["strict"] = fmt.strict
    if fmt.description:
        schema["description"] = fmt.description
    return {"format": schema}


def encode_request(call: ModelCall, upstream_model: str) -> dict[str, Any]:
    """ModelCall → an upstream `POST /v1/responses` body (stateless: `store` false)."""
    leading = 0
    while leading < len(call.messages) and call.messages[leading].role is Role.SYSTEM:
        leading += 1
    instructions = "\n\n".join(message.text for message in call.messages[:leading])
    items = [item for message in call.messages[leading:] for item in _message_items(message)]
    body: dict[str, Any] = {"model": upstream_model, "input": items, "store": False}
    if instructions:
        body["instructions"] = instructions
    if call.tools:
        body["tools"] = [
            {"type": "function", "name": tool.name, "description": tool.description,
             "parameters": tool.parameters, "strict": bool(tool.strict)}
            for tool in call.tools
        ]
    optional: dict[str, Any] = {
        "tool_choice": _tool_choice(call),
        "text": _text_format(call),
        "temperature": call.temperature,
        "top_p": call.top_p,
        "max_output_tokens": call.max_tokens,
        "parallel_tool_calls": call.parallel_tool_calls,
        "presence_penalty": call.presence_penalty,
        "frequency_penalty": call.frequency_penalty,
        "safety_identifier": call.user,
        "reasoning": {"effort": call.reasoning_effort} if call.reasoning_effort else None,
        "metadata": call.metadata or None,
        "top_logprobs": call.top_logprobs or None,
        "include": [LOGPROBS] if call.top_logprobs is not None else None,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    if call.stream:
        body["stream"] = True
    return body


# --- Responses → canonical ------------------------------------------------------------------


def decode_usage(usage: dict[str, Any] | None) -> Usage:
    if not usage:  # none reported: a placeholder the provider replaces with its estimate
        return Usage(source=UsageSource.ESTIMATED)
    return Usage(
        input_tokens=int(usage.get("input_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
        cached_tokens=int((usage.get("input_tokens_details") or {}).get("cached_tokens") or 0),
        reasoning_tokens=int(
            (usage.get("output_tokens_details") or {}).get("reasoning_tokens") or 0
        ),
    )


def finish_reason(body: dict[str, Any], has_calls: bool) -> FinishReason:
    """The canonical finish reason of a response object."""
    if body.get("status") == "incomplete":
        reason = (body.get("incomplete_details") or {}).get("reason")
        return FinishReason.CONTENT_FILTER if reason == "content_filter" else FinishReason.LENGTH
    if body.get("status") == "failed":
        return FinishReason.ERROR
    return FinishReason.TOOL_CALLS if has_calls else FinishReason.STOP


def _texts(parts: list[dict[str, Any]] | None, *kinds: str) -> str:
    return "".join(
        str(part.get("text") or part.get("refusal") or "")
        for part in parts or []
        if part.get("type") in kinds
    )


def decode_response(body: dict[str, Any]) -> ModelResult:
    """A Responses response object → ModelResult; raises KeyError/TypeError when malformed."""
    message = Message(Role.ASSISTANT)
    text = ""
    reasoning: list[str] = []
    for item in body["output"]:
        kind = item.get("type")
        if kind == "message":
            text += _texts(item.get("content"), "output_text", "refusal")
        elif kind == "function_call":
            message.tool_calls.append(
                ToolCall(str(item["call_id"]), str(item["name"]), str(item["arguments"]))
            )
        elif kind == "reasoning":
            reasoning.append(
                _texts(item.get("content"), "reasoning_text")
                or _texts(item.get("summary"), "summary_text")
            )
            if item.get("encrypted_content"):
                message.reasoning_signature = str(item["encrypted_content"])
    if text:
        message.content.append(TextPart(text))
    if any(reasoning):
        message.reasoning = "".join(reasoning)
    return ModelResult(
        id=str(body.get("id") or ""),
        model=str(body.get("model") or ""),
        message=message,
        finish_reason=finish_reason(body, bool(message.tool_calls)),
        usage=decode_usage(body.get("usage")),
        created=int(body.get("created_at") or time.time()),
    )


def decode_logprobs(raw: Any) -> list[TokenLogprob]:
    """The spec's `LogProb` list (each with its `top_logprobs`) → canonical."""
    if not isinstance(raw, list):
        return []
    return [
        TokenLogprob(str(entry.get("token", "")), float(entry.get("logprob") or 0.0),
                     decode_logprobs(entry.get("top_logprobs")))
        for entry in raw
        if isinstance(entry, dict)
    ]


_REASONING_DELTAS = frozenset(
    {"response.reasoning.delta", "response.reasoning_text.delta",
     "response.reasoning_summary_text.delta"}
)


class StreamDecoder:
    """Upstream Responses events → canonical events; tool calls keep their own order."""

    def __init__(self) -> None:
        self._calls: dict[str, int] = {}  # item id → canonical call index
        self._with_deltas: set[str] = set()
        self.done = False

    def decode(self, event: dict[str, Any]) -> list[StreamEvent]:
        kind = event.get("type")
        if kind == "response.output_text.delta" or kind == "response.refusal.delta":
            return [TextDelta(str(event.get("delta") or ""),
                              decode_logprobs(event.get("logprobs")))]
        if kind in _REASONING_DELTAS:
            return [ReasoningDelta(str(event.get("delta") or ""))]
        if kind == "response.output_item.added":
            return self._added(event.get("item") or {})
        if kind == "response.function_call_arguments.delta":
            item_id = str(event.get("item_id"))
            index = self._calls.get(item_id)
            if index is None:
                return []
            self._with_deltas.add(item_id)
            return [ToolCallDelta(index, str(event.get("delta") or ""))]
        if kind == "response.output_item.done":
            return self._item_done(event.get("item") or {})
        if kind in ("response.completed", "response.incomplete", "response.failed"):
            return self._terminal(event.get("response") or {})
        if kind == "error":
            self.done = True
            error = event.get("error") or event
            return [ErrorEvent(str(error.get("message") or "The upstream stream failed."))]
        return []

    def _added(self, item: dict[str, Any]) -> list[StreamEvent]:
        if item.get("type") != "function_call":
            return []
        index = len(self._calls)
        self._calls[str(item.get("id"))] = index
        return [ToolCallStart(index, str(item.get("call_id")), str(item.get("name")))]

    def _item_done(self, item: dict[str, Any]) -> list[StreamEvent]:
        item_id = str(item.get("id"))
        if item.get("type") == "reasoning" and item.get("encrypted_content"):
            return [ReasoningDelta("", signature=str(item["encrypted_content"]))]
        index = self._calls.get(item_id)
        if index is None:
            return []
        events: list[StreamEvent] = []
        if item_id not in self._with_deltas and item.get("arguments"):
            events.append(ToolCallDelta(index, str(item["arguments"])))
        return [*events, ToolCallEnd(index)]

    def _terminal(self, response: dict[str, Any]) -> list[StreamEvent]:
        self.done = True
        if response.get("status") == "failed":
            error = response.get("error") or {}
            return [ErrorEvent(str(error.get("message") or "The upstream response failed."))]
        usage = UsageEvent(decode_usage(response.get("usage")))
        return [usage, Finish(finish_reason(response, bool(self._calls)))]
