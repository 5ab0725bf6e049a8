"""Per-run event logs: every event gets a sequence number; readers replay from an
offset and then follow live, so a client that reconnects misses nothing.

One mechanism for every resumable stream (Responses background runs, session SSE,
WebSocket chat). `EventLog` is the narrow interface; `MemoryEventLog` the in-process
implementation (a Redis one serves several gateway instances).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    sequence: int  # 1, 2, 3… within one log
    data: dict[str, Any]


class EventLog(Protocol):
    async def append(self, log_id: str, data: dict[str, Any]) -> int:
        """Add an event; returns its sequence number."""

    async def close(self, log_id: str) -> None:
        """Mark the log finished: followers stop after the last event."""

    def follow(
        self, log_id: str, after: int = 0, *, live: bool = True
    ) -> AsyncIterator[LoggedEvent]:
        """Events with sequence > `after`, then (if `live`) new ones until closed."""

    async def exists(self, log_id: str) -> bool: ...

    async def last_sequence(self, log_id: str) -> int:
        """The sequence of the newest event (0 when none): where a new live reader starts."""


@dataclass
class _Log:
    events: list[LoggedEvent] = field(default_factory=list)
    first: int = 1  # the sequence of events[0]; older ones were dropped (max_events)
    closed: bool = False
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    touched: float = field(default_factory=time.monotonic)


class MemoryEventLog:
    """Event logs in this process's memory; finished logs are dropped after `keep_seconds`;
    a log keeps its newest `max_events` (a long-lived one, such as a session's, drops the
    oldest; a reader resuming before them starts at the oldest kept)."""

    def __init__(self, keep_seconds: float = 3600.0, max_events: int = 100_000) -> None:
        self._logs: dict[str, _Log] = {}
        self._keep_seconds = keep_seconds
        self._max_events = max_events

    def _log(self, log_id: str) -> _Log:
        log = self._logs.get(log_id)
        if log is None:
            self._expire()
            log = self._logs[log_id] = _Log()
        return log

    def _expire(self) -> None:
        cutoff = time.monotonic() - self._keep_seconds
        for log_id in [key for key, log in self._logs.items() if log.closed and log.touched < cutoff]:
            del self._logs[log_id]

    async def append(self, log_id: str, data: dict[str, Any]) -> int:
        log = self._log(log_id)
        sequence = log.first + len(log.events)
        log.events.append(LoggedEvent(sequence, data))
        if len(log.events) > self._max_events + self._max_events // 10:
            drop = len(log.events) - self._max_events
            del log.events[:drop]
            log.first += drop
        log.touched = time.monotonic()
        async with log.changed:
            log.changed.notify_all()
        return sequence

    async def close(self, log_id: str) -> None:
        log = self._log(log_id)
        log.closed = True
        log.touched = time.monotonic()
        async with log.changed:
            log.changed.notify_all()

    async def exists(self, log_id: str) -> bool:
        return log_id in self._logs

    async def last_sequence(self, log_id: str) -> int:
        log = self._logs.get(log_id)
        return 0 if log is None else log.first + len(log.events) - 1

    async def follow(
        self, log_id: str, after: int = 0, *, live: bool = True
    ) -> AsyncIterator[LoggedEvent]:
        log = self._log(log_id)
        following = max(after, 0) + 1  # the next sequence to yield
        while True:
            while following < log.first + len(log.events):
                event = log.events[max(following - log.first, 0)]
                following = event.sequence + 1
                yield event
            if log.closed or not live:
                return
            async with log.changed:
                if following >= log.first + len(log.events) and not log.closed:
                    await log.changed.wait()
