"""A workflow run's row: a step's save never writes over the lease the heartbeat renewed,
and a run cancelled (or taken over) elsewhere is not written back as running."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

from relaygate.agents.workflows.runner import WorkflowRunner
from relaygate.agents.workflows.spec import WorkflowSpec
from relaygate.store.agents import WorkflowRunRow, WorkflowRunStore
from relaygate.store.db import Database
from relaygate.store.schema import upgrade
from relaygate.streaming.event_log import MemoryEventLog


def _row(owner: str, expires_at: float) -> WorkflowRunRow:
    now = time.time()
    return WorkflowRunRow(id=f"wfrun_{time.monotonic_ns()}", tenant="acme", workflow="w",
                          status="running", input=None, steps={}, created_at=now,
                          updated_at=now, owner=owner, expires_at=expires_at)


async def test_a_step_save_keeps_the_renewed_lease_and_a_cancel_elsewhere_wins(
    database: str,
) -> None:
    await upgrade(database)
    db = Database(database)
    try:
        runs = WorkflowRunStore(db)
        row = _row("a", time.time() + 1)
        await runs.insert(row)
        await runs.renew("a", time.time() + 1000)  # the heartbeat
        row.steps = {"first": {"status": "completed"}}
        assert await runs.record(row, "a")
        stored = await runs.get("acme", row.id)
        assert stored is not None and stored.expires_at is not None
        assert stored.expires_at > time.time() + 900  # the renewal stands
        assert stored.steps == {"first": {"status": "completed"}}
        assert not await runs.record(row, "b")  # another instance's stale row: refused
        assert await runs.end(row.id, "cancelled")  # a cancel sent to another instance
        row.steps = {"first": {"status": "completed"}, "second": {"status": "completed"}}
        assert not await runs.record(row, "a")  # the owner's next step sees it
        stored = await runs.get("acme", row.id)
        assert stored is not None and stored.status == "cancelled"
        assert "second" not in stored.steps
    finally:
        await db.close()


async def test_an_orphaned_run_of_a_scoped_key_ends_failed_rather_than_unbounded(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'runs.db'}"
    await upgrade(url)
    db = Database(url)
    spec = WorkflowSpec.model_validate(
        {"steps": [{"id": "a", "type": "tool", "tool": "echo", "arguments": {"text": "x"}}]})
    runner = WorkflowRunner({"w": spec}, db, cast(Any, None), MemoryEventLog(), 30)
    try:
        scoped = _row("gone-instance", time.time() - 1)
        scoped.scoped, scoped.key_id = True, "key_1"
        await runner.runs.insert(scoped)
        assert await runner.sweep() == 0  # not resumed without its key's limits
        stored = await runner.runs.get("acme", scoped.id)
        assert stored is not None and stored.status == "failed" and stored.owner is None
    finally:
        await db.close()
