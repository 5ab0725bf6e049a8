"""Owners of background runs: each gateway process holds its runs under leases it renews,
and ends the runs of processes that are gone (their lease ran out).

Every third of `lease_seconds` the heartbeat renews this process's leases (one UPDATE)
and ends every run whose lease has run out, whoever owned it: the response is stored
`failed` with ORPHANED, and its event log, where it outlived its owner (on Redis), ends
with `response.failed`. The first sweep runs as the services start (the restart sweep);
retrieving, resuming or cancelling a run checks its lease too (`settle`). A run whose
lease this process lost (it could not renew in time, and another instance ended it) is
abandoned: its task stops without writing anything more.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid

from relaygate.observability.logging import get_logger
from relaygate.store.db import Database
from relaygate.store.response_runs import RunLease, RunLeaseStore
from relaygate.store.responses import ResponseStore
from relaygate.streaming.event_log import EventLog
from relaygate.translate.responses.terminal import failed, terminal_event

ORPHANED = {
    "code": "server_error",
    "message": "the gateway instance running this response stopped",
}
RUNNING = frozenset({"queued", "in_progress"})

_log = get_logger("relaygate.run_leases")


class RunLeases:
    """This process's background runs (leases held, renewed) and the sweep of others'."""

    def __init__(self, database: Database, event_log: EventLog, lease_seconds: float) -> None:
        self.owner = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._leases = RunLeaseStore(database)
        self._responses = ResponseStore(database)
        self._log = event_log
        self._seconds = lease_seconds
        self._held: dict[str, asyncio.Event] = {}  # response id → set when the lease is lost
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """The restart sweep (runs left by a process that is gone), then the heartbeat."""
        await self.sweep()
        self._task = asyncio.create_task(self._beat(), name="background response leases")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def claim(self, response_id: str, tenant: str) -> asyncio.Event:
        """Hold a new run (before it is first stored); the event is set if it is lost."""
        await self._leases.claim(response_id, tenant, self.owner, time.time() + self._seconds)
        lost = self._held[response_id] = asyncio.Event()
        return lost

    async def release(self, response_id: str) -> None:
        """The run has ended (its final state stored): nobody holds it any more."""
        self._held.pop(response_id, None)
        await self._leases.release(response_id, self.owner)

    async def settle(self, response_id: str) -> bool:
        """End the run if its owner is gone (its lease ran out); True if this call did."""
        lease = await self._leases.get(response_id)
        if lease is None or lease.expires_at >= time.time():
            return False
        return await self._end_orphan(lease)

    async def sweep(self) -> int:
        """End every run whose lease ran out; returns how many this call ended."""
        ended = 0
        for lease in await self._leases.expired(time.time()):
            ended += await self._end_orphan(lease)
        return ended

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._seconds / 3)
            try:
                await self._renew()
                ended = await self.sweep()
            except Exception:  # the heartbeat must outlive a failing database or Redis
                _log.exception("renewing background run leases failed")
                continue
            if ended:
                _log.warning("ended orphaned background responses", count=ended)

    async def _renew(self) -> None:
        if not self._held:
            return
        asked = set(self._held)
        still = await self._leases.renew(self.owner, time.time() + self._seconds)
        for response_id in asked - still:
            lost = self._held.pop(response_id, None)
            if lost is not None:
                _log.warning("lost the lease of a background response", id=response_id)
                lost.set()

    async def _end_orphan(self, lease: RunLease) -> bool:
        if lease.owner == self.owner and lease.response_id in self._held:
            return False  # ours and running: a late heartbeat, not a dead owner
        now = time.time()
        if not await self._leases.take_over(
            lease.response_id, self.owner, now, now + self._seconds
        ):
            return False  # renewed meanwhile, or another instance is ending it
        body = await self._responses.get(lease.tenant, lease.response_id)
        if body is not None and body.get("status") in RUNNING:
            ended = failed(body, ORPHANED)
            await self._responses.save(lease.tenant, ended)  # stored before its last event
            if await self._log.exists(lease.response_id):
                sequence = await self._log.last_sequence(lease.response_id) + 1
                await self._log.append(lease.response_id, terminal_event(ended, sequence))
                await self._log.close(lease.response_id)
        await self._leases.release(lease.response_id, self.owner)
        return True
