"""Leases of background runs, two instances (two `RunLeases`) on one database: a run is
ended only once its lease has run out, by one instance alone, never by its own live
owner; and an owner that lost its lease is told so (its run must stop writing)."""

from __future__ import annotations

import asyncio
from typing import Any

from relaygate.pipeline.run_leases import ORPHANED, RunLeases
from relaygate.store.db import Database
from relaygate.store.responses import ResponseStore
from relaygate.store.schema import upgrade
from relaygate.streaming.event_log import MemoryEventLog

LEASE = 1.0  # seconds: long enough that a busy machine never sees a fresh lease expire


def _running(response_id: str) -> dict[str, Any]:
    item = {"id": "msg_1", "type": "message", "role": "assistant", "status": "in_progress",
            "content": []}
    return {"id": response_id, "object": "response", "status": "in_progress", "created_at": 1,
            "background": True, "error": None, "output": [item]}


async def test_an_expired_lease_is_ended_once_and_its_owner_learns_it(database: str) -> None:
    await upgrade(database)
    db, log = Database(database), MemoryEventLog()
    owner, other = RunLeases(db, log, LEASE), RunLeases(db, log, LEASE)
    store = ResponseStore(db)
    try:
        lost = await owner.claim("resp_1", "acme")
        await store.save("acme", _running("resp_1"))
        await log.append("resp_1", {"type": "response.created", "sequence_number": 1})
        assert not await other.settle("resp_1")  # the lease is fresh
        await asyncio.sleep(LEASE * 1.5)
        assert await owner.sweep() == 0  # its own live run: a late heartbeat, no orphan
        assert await other.settle("resp_1")
        assert not await other.settle("resp_1")  # ended already
        body = await store.get("acme", "resp_1")
        assert body is not None and body["status"] == "failed" and body["error"] == ORPHANED
        assert body["output"][0]["status"] == "incomplete"
        events = [event.data async for event in log.follow("resp_1", live=False)]
        assert [(e["type"], e["sequence_number"]) for e in events] == [
            ("response.created", 1), ("response.failed", 2)
        ]
        await owner.start()  # its heartbeat finds the lease gone
        await asyncio.wait_for(lost.wait(), 2)
    finally:
        await owner.close()
        await db.close()
