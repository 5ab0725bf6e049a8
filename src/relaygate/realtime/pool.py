"""A bounded pool for agent turns: `workers` run at once, `queue_size` wait; when the
queue is full `submit` raises `Busy` at once instead of making the sender wait.
A job keeps its own time limit."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from contextlib import suppress

from relaygate.observability.logging import get_logger
from relaygate.observability.tracing.current import span

_log = get_logger("relaygate.realtime.pool")


class Busy(Exception):
    """Every worker is busy and the waiting line is full."""


Job = Callable[[], Awaitable[None]]


class TurnPool:
    def __init__(self, workers: int, queue_size: int) -> None:
        self._queue: asyncio.Queue[tuple[Job, contextvars.Context]] = asyncio.Queue(queue_size)
        self._count = workers
        self._workers: list[asyncio.Task[None]] = []
        self.running = 0

    def start(self) -> None:
        self._workers = [asyncio.create_task(self._work()) for _ in range(self._count)]

    @property
    def depth(self) -> int:
        """Turns waiting for a worker."""
        return self._queue.qsize()

    def submit(self, job: Job) -> None:
        try:
            self._queue.put_nowait((job, contextvars.copy_context()))  # the sender's tracing
        except asyncio.QueueFull:
            raise Busy("every agent worker is busy; try again shortly") from None

    async def _work(self) -> None:
        while True:
            job, context = await self._queue.get()
            self.running += 1
            try:
                await asyncio.create_task(_run(job), context=context)
            except Exception:  # a turn's bug must not kill the worker: log it, go on
                _log.exception("agent turn failed")
            finally:
                self.running -= 1

    async def close(self) -> None:
        for worker in self._workers:
            worker.cancel()
        for worker in self._workers:
            with suppress(asyncio.CancelledError):
                await worker
        self._workers = []


async def _run(job: Job) -> None:
    with span("relaygate.realtime.turn", {"gen_ai.operation.name": "invoke_agent"}, root=True):
        await job()
