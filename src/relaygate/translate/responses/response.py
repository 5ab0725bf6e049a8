"""The response object (`ResponseResource`): every required field, exactly typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from relaygate.translate.responses.items import Item
from relaygate.translate.responses.request import ResponseOptions
from relaygate.types import Usage


class Status(StrEnum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL = frozenset({Status.COMPLETED, Status.INCOMPLETE, Status.FAILED, Status.CANCELLED})


@dataclass(slots=True)
class ResponseState:
    """One response as it is being produced; `encode_response` renders it."""

    id: str
    created_at: int
    options: ResponseOptions
    status: Status = Status.IN_PROGRESS
    output: list[Item] = field(default_factory=list)
    usage: Usage | None = None
    error: dict[str, str] | None = None
    incomplete_reason: str | None = None
    completed_at: int | None = None


USAGE_SOURCE_FIELD = "relaygate_usage_source"  # upstream | estimated (docs/tokens.md)


def encode_usage(usage: Usage) -> dict[str, Any]:
    """The spec's `Usage`, plus whose count it is (an extra field the schema tolerates)."""
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens},
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        USAGE_SOURCE_FIELD: usage.source.value,
    }


def _text_field(text: dict[str, Any]) -> dict[str, Any]:
    fmt = dict(text["format"])
    if fmt["type"] == "json_schema":
        fmt["schema"] = None  # the spec types the echoed schema as null (see specs/README.md)
    return {**text, "format": fmt}


def encode_response(state: ResponseState) -> dict[str, Any]:
    """The `ResponseResource` for `state`; nullable fields are null, never missing."""
    options = state.options
    incomplete = (
        {"reason": state.incomplete_reason} if state.status is Status.INCOMPLETE else None
    )
    return {
        "id": state.id,
        "object": "response",
        "created_at": state.created_at,
        "completed_at": state.completed_at,
        "status": state.status.value,
        "incomplete_details": incomplete,
        "model": options.model,
        "previous_response_id": options.previous_response_id,
        "instructions": options.instructions,
        "output": list(state.output),
        "error": state.error,
        "tools": list(options.tools),
        "tool_choice": options.tool_choice,
        "truncation": options.truncation,
        "parallel_tool_calls": options.parallel_tool_calls,
        "text": _text_field(options.text),
        "top_p": options.top_p if options.top_p is not None else 1.0,
        "presence_penalty": options.presence_penalty or 0.0,
        "frequency_penalty": options.frequency_penalty or 0.0,
        "top_logprobs": options.top_logprobs or 0,
        "temperature": options.temperature if options.temperature is not None else 1.0,
        "reasoning": options.reasoning,
        "usage": encode_usage(state.usage) if state.usage is not None else None,
        "max_output_tokens": options.max_output_tokens,
        "max_tool_calls": options.max_tool_calls,
        "store": options.store,
        "background": options.background,
        "service_tier": options.service_tier or "default",
        "metadata": dict(options.metadata),
        "safety_identifier": options.safety_identifier,
        "prompt_cache_key": options.prompt_cache_key,
    }
