"""The result of one tool call, as fed back to the model and reported in events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


def to_text(value: Any) -> str:
    """A tool's value as the text a model reads: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, default=str).decode()


@dataclass(slots=True)
class ToolOutcome:
    call_id: str
    name: str
    output: Any  # the tool's value, or {"error": message} when is_error
    is_error: bool = False
    error_code: str | None = None
    duration_ms: float = 0.0

    @property
    def content(self) -> str:
        return to_text(self.output)

    def as_event(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "call_id": self.call_id,
            "name": self.name,
            "output": self.output,
            "is_error": self.is_error,
            "duration_ms": self.duration_ms,
        }
        if self.error_code:
            data["error_code"] = self.error_code
        return data
