"""The background task that removes expired sessions, started and stopped with the gateway."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError

from relaygate.observability.logging import get_logger

_log = get_logger("relaygate.sessions")


class SessionSweeper:
    """Calls `sweep` every `interval` seconds; a failed sweep is logged and retried."""

    def __init__(self, sweep: Callable[[], Awaitable[int]], interval: float) -> None:
        self._sweep = sweep
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="session-sweeper")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                removed = await self._sweep()
            except (SQLAlchemyError, OSError) as exc:
                _log.warning("session sweep failed", error=str(exc))
            else:
                if removed:
                    _log.info("expired sessions removed", count=removed)
            await asyncio.sleep(self._interval)
