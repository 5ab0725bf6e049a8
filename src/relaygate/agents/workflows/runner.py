"""`WorkflowRunner`: durable workflow runs. Each run is a background task held under a
lease (`owner`, `expires_at` on its row) that this process renews every third of
`lease_seconds`; each step's state is stored as it changes. A run whose lease ran out (its
process is gone: kill -9, a crash) is taken over by one instance — a conditional UPDATE —
and goes on from its stored steps: finished ones are kept, the rest run again."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from relaygate.agents.workflows.engine import StepState, WorkflowRun, run_workflow
from relaygate.agents.workflows.leaves import Leaves, leaf_runner
from relaygate.agents.workflows.spec import WorkflowSpec
from relaygate.observability.logging import get_logger
from relaygate.pipeline.auth import Principal
from relaygate.pipeline.call import Endpoint, Origin
from relaygate.store.agents import AgentStore, WorkflowRow, WorkflowRunRow, WorkflowRunStore
from relaygate.store.db import Database
from relaygate.streaming.event_log import EventLog

_log = get_logger("relaygate.workflows")
KEPT = ("completed", "skipped")


def run_json(row: WorkflowRunRow) -> dict[str, Any]:
    costs = [step["cost_usd"] for step in row.steps.values() if step.get("cost_usd") is not None]
    return {"id": row.id, "object": "workflow.run", "workflow": row.workflow,
            "status": row.status, "input": row.input, "steps": row.steps,
            "cost_usd": sum(costs) if costs else None,
            "created_at": row.created_at, "updated_at": row.updated_at}


class WorkflowRunner:
    def __init__(self, configured: dict[str, WorkflowSpec], database: Database,
                 leaves: Leaves, event_log: EventLog, lease_seconds: float) -> None:
        self.owner = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.configured = configured
        self.definitions = AgentStore(database, WorkflowRow)
        self.runs = WorkflowRunStore(database)
        self._leaves = leaves
        self._log = event_log
        self._seconds = lease_seconds
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._beat: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.sweep()
        self._beat = asyncio.create_task(self._heartbeat(), name="workflow leases")

    async def close(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    async def workflow(self, name: str) -> WorkflowSpec | None:
        if name in self.configured:
            return self.configured[name]
        stored = await self.definitions.get(name)
        return None if stored is None else WorkflowSpec.model_validate(stored)

    def expires(self) -> float:
        return time.time() + self._seconds

    def start_run(self, row: WorkflowRunRow, run: WorkflowRun, principal: Principal,
                  request_id: str) -> None:
        """Run (or go on with) `run` in a task of its own; its row is held by this process."""
        origin = Origin(principal, request_id, Endpoint.SESSION)
        step = leaf_runner(self._leaves, origin, row.id)
        lost = False  # the run is not ours any more: stop without writing over its row

        async def on_step(step_id: str, state: StepState) -> None:
            nonlocal lost
            row.steps = {**row.steps, step_id: dataclasses.asdict(state)}
            if not await self.runs.record(row, self.owner):
                lost = True
                _log.warning("workflow run taken over or cancelled elsewhere; stopping here",
                             id=row.id)
                task.cancel()
                return
            await self._log.append(row.id, {"event": "step",
                                            "data": {"step": step_id, **row.steps[step_id]}})

        async def work() -> None:
            try:
                row.status = await run_workflow(run, step, on_step)
            except asyncio.CancelledError:
                row.status = "cancelled"
                raise
            except Exception:
                row.status = "failed"
                raise
            finally:
                row.owner, row.expires_at = None, None
                if not lost and await self.runs.record(row, self.owner):
                    await self._log.append(row.id, {"event": f"run.{row.status}",
                                                    "data": run_json(row)})
                await self._log.close(row.id)

        task = asyncio.create_task(work(), name=f"workflow:{row.id}")
        self._tasks[row.id] = task
        task.add_done_callback(lambda done: self._done(row.id, done))

    def _done(self, run_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(run_id) is task:
            del self._tasks[run_id]
        if not task.cancelled() and task.exception() is not None:
            _log.error("workflow run failed", id=run_id, exc_info=task.exception())

    async def cancel(self, run_id: str) -> bool:
        task = self._tasks.get(run_id)
        if task is None:
            return False
        task.cancel()
        await asyncio.wait({task})
        return True

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self._seconds / 3)
            try:
                if self._tasks:
                    await self.runs.renew(self.owner, self.expires())
                resumed = await self.sweep()
            except Exception:  # the heartbeat must outlive a failing database
                _log.exception("renewing workflow leases failed")
                continue
            if resumed:
                _log.warning("resumed orphaned workflow runs", count=resumed)

    async def sweep(self) -> int:
        """Take over every running run whose lease ran out, and go on with it here."""
        resumed = 0
        for row in await self.runs.expired(time.time()):
            if not await self.runs.take_over(row.id, self.owner, time.time(), self.expires()):
                continue
            spec = await self.workflow(row.workflow)
            if spec is None or row.scoped:
                # a key's scopes, limits and budget are not stored with the run: rather
                # than go on without them, the run ends (as an orphaned Response does)
                await self.runs.end(row.id, "failed")
                continue
            self.resume(row, spec, Principal(row.tenant, key_id=row.key_id), "resumed")
            resumed += 1
        return resumed

    @staticmethod
    def kept_steps(row: WorkflowRunRow, keep: Callable[[str, dict[str, Any]], bool] | None = None,
                   ) -> dict[str, StepState]:
        """The stored steps a run goes on from: the finished ones (and those `keep` keeps)."""
        return {key: StepState(**value) for key, value in row.steps.items()
                if value.get("status") in KEPT and (keep is None or keep(key, value))}

    def resume(self, row: WorkflowRunRow, spec: WorkflowSpec, principal: Principal,
               request_id: str, keep: Callable[[str, dict[str, Any]], bool] | None = None,
               ) -> None:
        """Go on from the stored steps: those finished are kept, the others run again."""
        kept = self.kept_steps(row, keep)
        row.status, row.owner, row.expires_at = "running", self.owner, self.expires()
        row.steps = {key: dataclasses.asdict(value) for key, value in kept.items()}
        self.start_run(row, WorkflowRun(spec, row.input, kept), principal, request_id)
