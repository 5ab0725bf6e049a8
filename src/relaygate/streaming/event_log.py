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


@dataclass
class _Log:
    events: list[LoggedEvent] = field(default_factory=list)
    closed: bool = False
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    touched: float = field(default_factory=time.monotonic)


class MemoryEventLog:
    """Event logs in this process's memory; finished logs are dropped after `keep_seconds`."""

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
        sequence = len(log.events) + 1
        if sequence <= self._max_events:
            log.events.append(LoggedEvent(sequence, data))
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

    async def follow(
        self, log_id: str, after: int = 0, *, live: bool = True
    ) -> AsyncIterator[LoggedEvent]:
        log = self._log(log_id)
        position = max(after, 0)
        while True:
            while position < len(log.events):
                event = log.events[position]
                position += 1
                yield event
            if log.closed or not live:
                return
            async with log.changed:
                if position >= len(log.events) and not log.closed:
                    await log.changed.wait()
