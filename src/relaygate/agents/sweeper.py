"""`Sweeper`: a background task that calls a cleanup every `interval` seconds, started and
stopped with the service that owns it (expired sessions, stale workspaces)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from relaygate.observability.logging import get_logger

_log = get_logger("relaygate.sweeper")


class Sweeper:
    """Calls `sweep` (which returns how many things it removed) every `interval` seconds;
    a sweep that raises one of `recoverable` is logged and tried again next time."""

    def __init__(
        self,
        what: str,
        sweep: Callable[[], Awaitable[int]],
        interval: float,
        recoverable: tuple[type[Exception], ...] = (OSError,),
    ) -> None:
        self._what = what  # e.g. "expired sessions", for the log lines
        self._sweep = sweep
        self._interval = interval
        self._recoverable = recoverable
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"sweeper: {self._what}")

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
            except self._recoverable as exc:
                _log.warning("sweep failed", what=self._what, error=str(exc))
            else:
                if removed:
                    _log.info("swept", what=self._what, count=removed)
            await asyncio.sleep(self._interval)
