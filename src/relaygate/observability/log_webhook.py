"""The webhook log export: batches of JSON records POSTed to `telemetry.logs.endpoint`
(loaded only when configured, so a gateway without it loads no HTTP client for it)."""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

import httpx

from relaygate.observability.logging import get_logger
from relaygate.observability.settings import LogSettings

_log = get_logger("relaygate.log_export")


class WebhookExport:
    """POSTs `{"records": [...]}` batches of JSON records to `endpoint`."""

    def __init__(self, settings: LogSettings) -> None:
        if settings.endpoint is None:
            raise ValueError("telemetry.logs.endpoint is needed by the webhook exporter")
        self._url = settings.endpoint
        self._headers = dict(settings.headers)
        self._settings = settings
        self._queue: collections.deque[dict[str, Any]] = collections.deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self.dropped = 0
        self.sent = 0

    def emit(self, event: str, fields: dict[str, Any]) -> None:
        if len(self._queue) >= self._settings.queue_records:
            self.dropped += 1
            return
        self._queue.append({"event": event, "timestamp": time.time(), **fields})
        if len(self._queue) >= self._settings.batch_records:
            self._wake.set()

    def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=5.0)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        interval = self._settings.flush_interval_ms / 1000
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), interval)
            except TimeoutError:
                pass
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Send what is queued, batch by batch; a batch that fails is dropped (logged)."""
        while self._queue and self._client is not None:
            size = min(len(self._queue), self._settings.batch_records)
            batch = [self._queue.popleft() for _ in range(size)]
            try:
                reply = await self._client.post(self._url, json={"records": batch},
                                                headers=self._headers)
                reply.raise_for_status()
                self.sent += len(batch)
            except httpx.HTTPError as exc:
                self.dropped += len(batch)
                _log.warning("log export webhook failed; batch dropped", records=len(batch),
                             error=type(exc).__name__)
                return

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            await asyncio.wait_for(self.flush(), 5.0)
        except TimeoutError:
            _log.warning("log export: records lost at shutdown", records=len(self._queue))
        if self._client is not None:
            await self._client.aclose()
