"""The error a blocking guard raises: 400 `guardrail_blocked`, in each front's format."""

from __future__ import annotations

from relaygate.errors import InvalidRequest


class GuardrailBlocked(InvalidRequest):
    default_code = "guardrail_blocked"

    def __init__(self, guard: str, where: str, kinds: list[str], reason: str | None = None) -> None:
        what = {"input": "The request", "output": "The model's answer",
                "tool_args": "A tool call's arguments",
                "tool_results": "A tool's result"}.get(where, "The content")
        message = f"{what} was blocked by guardrail '{guard}' ({', '.join(kinds)})."
        if reason:
            message += f" {reason}"
        super().__init__(message, param=where)
        self.guard = guard
        self.where = where
