"""Work the gateway owns behind the requests: background runs by id, cancellable one by
one and all together at shutdown (Responses `background: true`), and `TaskSet`s of work
done after a response (settlements, cache writes), awaited at shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any

from relaygate.observability.logging import get_logger

_log = get_logger("relaygate.background")


class BackgroundRunner:
    """Owns running tasks by key; a finished task forgets itself."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, key: str, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work, name=f"background:{key}")
        self._tasks[key] = task
        task.add_done_callback(lambda done: self._finished(key, done))

    def _finished(self, key: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled() and task.exception() is not None:
            _log.error("background run failed", key=key, exc_info=task.exception())

    async def cancel(self, key: str) -> bool:
        """Cancel the run and wait until it has finished its cleanup; False if none runs."""
        task = self._tasks.get(key)
        if task is None:
            return False
        task.cancel()
        await asyncio.wait({task})
        return True

    async def close(self) -> None:
        """Cancel every run (gateway shutdown) and wait for their cleanup."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)


class TaskSet:
    """Work started behind a response, kept until done so that shutdown can wait for it."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Future[None]] = set()

    def start(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drained(self) -> None:
        """Wait until all work started so far, and any it started, is done."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
