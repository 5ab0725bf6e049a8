"""The ledger's writer: an outcome sink that queues, and a task that writes in batches.

`record` (the sink) only appends `(time, outcome)` to a bounded deque: no await, no row
built on the request path. A background task turns what is queued into rows and writes
them every `flush_interval_ms`, as soon as `batch_rows` are waiting, and at `close`.
When the database fails, the rows stay queued and the flush is retried with backoff; when
`queue_rows` are waiting, new rows are dropped and counted. Either is logged once per
episode, never per row. The database (and SQLAlchemy) is opened by the first flush, so a
gateway that has served nothing has loaded neither.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge

from relaygate.control_settings import LedgerSettings
from relaygate.lazy_import import import_module
from relaygate.ledger.rows import row_of
from relaygate.observability.logging import get_logger
from relaygate.pipeline.outcome import Outcome

if TYPE_CHECKING:
    from relaygate.store.db import Database

_log = get_logger("relaygate.ledger")

STORE = "relaygate.store.usage_ledger"
MAX_BACKOFF_SECONDS = 30.0
RETENTION_EVERY_SECONDS = 3600.0
CLOSE_TIMEOUT_SECONDS = 5.0  # at shutdown, how long the last flush may take


class LedgerWriter:
    def __init__(
        self,
        settings: LedgerSettings,
        database: Callable[[], Awaitable[Database]],
        registry: CollectorRegistry,
    ) -> None:
        self._queue: deque[tuple[float, Outcome]] = deque()
        self._limit = settings.queue_rows
        self._batch = settings.batch_rows
        self._interval = settings.flush_interval_ms / 1000
        self._retention_seconds = (
            settings.retention_days * 86_400 if settings.retention_days is not None else None
        )
        self._open_database = database
        self._store: ModuleType | None = None  # relaygate.store.usage_ledger, once loaded
        self._next_retention = 0.0  # the first flush that opens the database runs it
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._flush_waiters: list[asyncio.Future[bool]] = []
        self._failing = False  # the last flush failed: retrying with backoff
        self._overflowing = False  # dropping rows since the last successful flush
        self.dropped = 0
        self._dropped_total = Counter(
            "relaygate_ledger_rows_dropped", "Ledger rows dropped: the queue was full.",
            registry=registry,
        )
        self._written_total = Counter(
            "relaygate_ledger_rows_written", "Ledger rows written to the database.",
            registry=registry,
        )
        self._flush_failures = Counter(
            "relaygate_ledger_flush_failures", "Ledger flushes that failed (retried).",
            registry=registry,
        )
        queued = Gauge(
            "relaygate_ledger_rows_queued", "Ledger rows waiting to be written.",
            registry=registry,
        )
        queued.set_function(self._queue.__len__)

    @property
    def queued(self) -> int:
        return len(self._queue)

    def record(self, outcome: Outcome) -> None:
        """The outcome sink: queue the outcome (its row is built when flushed)."""
        queue = self._queue
        if len(queue) >= self._limit:
            self._drop()
            return
        queue.append((time.time(), outcome))
        if len(queue) >= self._batch:
            self._wake.set()  # a no-op while it is set already

    def _drop(self) -> None:
        self.dropped += 1
        self._dropped_total.inc()
        if not self._overflowing:
            self._overflowing = True
            _log.warning("ledger queue full: new rows are dropped (counted in "
                         "relaygate_ledger_rows_dropped_total) until the database catches up",
                         queue_rows=self._limit)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ledger-writer")

    async def _run(self) -> None:
        backoff = self._interval
        while True:
            if self._failing:
                await asyncio.sleep(backoff)
            elif len(self._queue) < self._batch:  # else a full batch waits already
                try:
                    await asyncio.wait_for(self._wake.wait(), self._interval)
                except TimeoutError:
                    pass
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # logged once per outage by flush; rows stay queued
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                self._flushed(False)
            else:
                backoff = self._interval
                self._flushed(True)

    def _flushed(self, written: bool) -> None:
        waiters, self._flush_waiters = self._flush_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(written)

    async def next_flush(self) -> bool:
        """Wait for the background task's next flush: True when it wrote all it tried to."""
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._flush_waiters.append(waiter)
        return await waiter

    async def flush(self) -> int:
        """Write every row queued now, in batches; how many. Raises when the database fails
        (what was not written stays queued, in order)."""
        async with self._flushing:
            pending = len(self._queue)
            written = 0
            try:
                while written < pending:
                    count = min(pending - written, self._batch)
                    rows = [row_of(at, outcome)
                            for at, outcome in itertools.islice(self._queue, count)]
                    store = await self._loaded_store()
                    await store.insert_rows(await self._open_database(), rows)
                    for _ in range(count):
                        self._queue.popleft()
                    written += count
                    self._written_total.inc(count)
                if self._store is not None:
                    await self._expire_old_rows()
            except Exception as exc:
                self._flush_failures.inc()
                if not self._failing:
                    self._failing = True
                    _log.warning("ledger database unavailable: rows wait in the queue and the "
                                 "flush is retried", error=type(exc).__name__,
                                 queued=len(self._queue))
                raise
            if self._failing:
                _log.info("ledger database back: queued rows written", rows=written)
            self._failing = False
            self._overflowing = False
            return written

    async def _loaded_store(self) -> ModuleType:
        if self._store is None:
            self._store = await import_module(STORE)
        return self._store

    async def _expire_old_rows(self) -> None:
        """Retention: at the first flush, then hourly, delete the rows past it."""
        now = time.time()
        if self._retention_seconds is None or now < self._next_retention:
            return
        assert self._store is not None
        removed = await self._store.delete_before(await self._open_database(),
                                                  now - self._retention_seconds)
        self._next_retention = now + RETENTION_EVERY_SECONDS
        if removed:
            _log.info("ledger rows past retention deleted", rows=removed)

    async def close(self) -> None:
        """Stop the task, then write what is queued (rows still queued then are lost)."""
        if self._task is not None:
            async with self._flushing:  # never cut a batch mid-write
                self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if not self._queue:
            return
        try:
            await asyncio.wait_for(self.flush(), CLOSE_TIMEOUT_SECONDS)
        except Exception as exc:
            _log.warning("ledger rows lost at shutdown: the database is unavailable",
                         error=type(exc).__name__, rows=len(self._queue))
