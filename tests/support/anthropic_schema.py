"""Check Anthropic Messages replies against the installed `anthropic` SDK's models: strict
pydantic validation (types exact), and every field of the model present, null or not (the
SDK gives them defaults; today's API schema requires them, so schema-checking clients do).

The few fields left out are ones the API sends only when the request asked for them."""

from __future__ import annotations

from typing import Any

import pydantic
from anthropic.types import Message, RawMessageStreamEvent

# model → fields a reply may leave out (request-dependent, not in the schema's required list)
OPTIONAL_FIELDS: dict[str, frozenset[str]] = {
    "Message": frozenset({"diagnostics"}),
    "Usage": frozenset({"speed"}),
    "ToolUseBlock": frozenset({"toolset_name"}),
}
_STREAM_EVENT: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(RawMessageStreamEvent)


def _missing(model: pydantic.BaseModel, data: Any, path: str) -> list[str]:
    """Fields of `model` (a validated SDK object) that `data` lacks, nested objects too."""
    if not isinstance(data, dict):
        return []
    name = type(model).__name__
    problems = [
        f"{path}.{field}"
        for field in type(model).model_fields
        if field not in data and field not in OPTIONAL_FIELDS.get(name, frozenset())
    ]
    for field in type(model).model_fields:
        value, raw = getattr(model, field, None), data.get(field)
        if isinstance(value, pydantic.BaseModel):
            problems += _missing(value, raw, f"{path}.{field}")
        elif isinstance(value, list) and isinstance(raw, list):
            for index, (item, raw_item) in enumerate(zip(value, raw, strict=True)):
                if isinstance(item, pydantic.BaseModel):
                    problems += _missing(item, raw_item, f"{path}.{field}[{index}]")
    return problems


def check_message(body: dict[str, Any]) -> Message:
    """A whole `/v1/messages` reply: strictly valid and complete (AssertionError if not)."""
    message = Message.model_validate(body, strict=True)
    missing = _missing(message, body, "message")
    assert not missing, f"fields missing from the reply: {missing}"
    return message


def check_stream_event(event: dict[str, Any]) -> Any:
    """One streamed event (`ping` and `error` aside): strictly valid and complete."""
    parsed = _STREAM_EVENT.validate_python(event, strict=True)
    missing = _missing(parsed, event, event["type"])
    assert not missing, f"fields missing from {event['type']}: {missing}"
    return parsed

