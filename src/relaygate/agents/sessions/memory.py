"""The active context of a turn: the system prompt, then the newest history that fits the
token budget (pure functions; token counts come stored with each message).

History is cut into units that are kept or dropped whole: an assistant message that asks
for tools together with the tool results that answer it, or any other single message. The
kept part is always a contiguous suffix of the history, so what was trimmed is simply
"messages 1..k".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from relaygate.errors import InvalidRequest
from relaygate.routing.registry import Route
from relaygate.types import Role


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """What trimming needs to know of one stored message."""

    seq: int
    role: Role
    tokens: int


@dataclass(frozen=True, slots=True)
class ContextPlan:
    """Which history goes into a turn, and what was left out."""

    budget: int
    fixed_tokens: int  # system prompt, tool definitions, the new message, reply priming
    first_kept_seq: int | None  # None: no history fits (or there is none)
    kept_messages: int
    kept_tokens: int
    trimmed_messages: int
    trimmed_tokens: int
    trimmed_through_seq: int | None  # messages 1..this were left out

    @property
    def tokens(self) -> int:
        return self.fixed_tokens + self.kept_tokens

    def as_metadata(self) -> dict[str, Any]:
        """How the turn's context was built, as recorded on the turn's reply."""
        return {
            "budget_tokens": self.budget,
            "context_tokens": self.tokens,
            "history_messages_kept": self.kept_messages,
            "trimmed_messages": self.trimmed_messages,
            "trimmed_tokens": self.trimmed_tokens,
            "trimmed_through_seq": self.trimmed_through_seq,
        }


def context_budget(
    max_context_tokens: int | None,
    max_output_tokens: int | None,
    route: Route,
    default_window: int,
    default_reply_tokens: int,
) -> int:
    """The session's own budget, else the model's window minus the reply budget."""
    if max_context_tokens is not None:
        return max_context_tokens
    window = route.context_window or default_window
    reply = max_output_tokens or default_reply_tokens
    return max(window - reply, 0)


def units_of(entries: list[HistoryEntry]) -> list[list[HistoryEntry]]:
    """Group history so a tool call and its results are never separated."""
    units: list[list[HistoryEntry]] = []
    for entry in entries:
        if entry.role is Role.TOOL and units:
            units[-1].append(entry)
        else:
            units.append([entry])
    return units


def plan_context(entries: list[HistoryEntry], budget: int, fixed_tokens: int) -> ContextPlan:
    """Keep the newest whole units that fit; raise when even the new message does not."""
    if fixed_tokens > budget:
        raise InvalidRequest(
            f"The message needs {fixed_tokens} tokens with the system prompt and tools, "
            f"more than the session's context budget of {budget} tokens.",
            param="message",
            code="context_length_exceeded",
        )
    room = budget - fixed_tokens
    kept_tokens = 0
    first_kept: int | None = None
    for unit in reversed(units_of(entries)):
        size = sum(entry.tokens for entry in unit)
        if kept_tokens + size > room:
            break
        kept_tokens += size
        first_kept = unit[0].seq
    kept = [entry for entry in entries if first_kept is not None and entry.seq >= first_kept]
    total = sum(entry.tokens for entry in entries)
    trimmed = len(entries) - len(kept)
    return ContextPlan(
        budget=budget,
        fixed_tokens=fixed_tokens,
        first_kept_seq=first_kept,
        kept_messages=len(kept),
        kept_tokens=kept_tokens,
        trimmed_messages=trimmed,
        trimmed_tokens=total - kept_tokens,
        trimmed_through_seq=entries[trimmed - 1].seq if trimmed else None,
    )
