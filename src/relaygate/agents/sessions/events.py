"""A session's live events, kept in the gateway's per-run event log (the same mechanism as
Responses' background streams): one log per session, `session:<id>`.

Event ids are `<boot>-<sequence>`: `boot` names this process's logs, so a client that
resumes with an id from before a restart (or from another instance) is recognised and
replayed the whole current log instead of silently skipping events.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from enum import StrEnum
from typing import Any

from relaygate.errors import InvalidRequest
from relaygate.streaming.event_log import EventLog, LoggedEvent


class SessionEvent(StrEnum):
    MESSAGE = "message"  # the welcome on connect, and each user message as a turn starts
    CHUNK = "chunk"  # {turn, index, text}
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    COMPLETED = "message.completed"  # the turn is on disk: {turn, message, usage, context}
    ERROR = "error"  # a turn failed (nothing appended), or the session ended


Emit = Callable[[SessionEvent, dict[str, Any]], Awaitable[None]]
"""How a turn reports what happens: an event name and its JSON payload."""


def log_id(session_id: str) -> str:
    return f"session:{session_id}"


class SessionEvents:
    """Publish to and read from the session logs; turns sequences into event ids."""

    def __init__(self, log: EventLog) -> None:
        self._log = log
        self.boot = uuid.uuid4().hex[:8]

    def event_id(self, sequence: int) -> str:
        return f"{self.boot}-{sequence}"

    def resume_after(self, last_event_id: str | None) -> int | None:
        """The sequence to replay after; None means "from now on" (no id given)."""
        if last_event_id is None or not last_event_id.strip():
            return None
        boot, sep, sequence = last_event_id.strip().rpartition("-")
        if not sep or not sequence.isdigit():
            raise InvalidRequest(
                f"Invalid Last-Event-ID {last_event_id!r}: expected an id this stream sent.",
                param="Last-Event-ID",
                code="invalid_last_event_id",
            )
        return int(sequence) if boot == self.boot else 0

    async def publish(self, session_id: str, event: SessionEvent, payload: dict[str, Any]) -> str:
        sequence = await self._log.append(
            log_id(session_id), {"event": event.value, "data": payload}
        )
        return self.event_id(sequence)

    async def position(self, session_id: str) -> int:
        """The sequence of the newest event (0 when none)."""
        return await self._log.last_sequence(log_id(session_id))

    def follow(self, session_id: str, after: int) -> AsyncIterator[LoggedEvent]:
        return self._log.follow(log_id(session_id), after)

    async def end(self, session_id: str, code: str, message: str) -> None:
        """Tell followers the session is gone, then close its log."""
        await self.publish(
            session_id,
            SessionEvent.ERROR,
            {"error": {"message": message, "type": "not_found_error", "param": None, "code": code}},
        )
        await self._log.close(log_id(session_id))
