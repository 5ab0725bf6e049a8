"""Running workflows (durable: `agents/workflows/runner.py`; each step's state stored):

    POST /v1/workflows/{name}/runs      {input} → 202 the run (400 on a schema mismatch)
    GET  /v1/workflows/runs/{id}        status and per-step state
    GET  /v1/workflows/runs/{id}/events SSE: `step` events, then `run.<status>`;
                                        resumes after Last-Event-ID
    POST /v1/workflows/runs/{id}/cancel
    POST /v1/workflows/runs/{id}/steps/{step}/approve   {output?} ends a `wait` step
    POST /v1/workflows/runs/{id}/steps/{step}/retry     a failed run goes on from its
                                                         stored steps, `step` run again
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from relaygate.agents.workflows.engine import WorkflowRun
from relaygate.agents.workflows.leaves import approval_topic
from relaygate.agents.workflows.runner import WorkflowRunner, run_json
from relaygate.agents.workflows.spec import WorkflowSpec, check_input
from relaygate.errors import InvalidRequest, NotFound
from relaygate.fronts.common import authenticate, context_of, gateway_of, read_json_object
from relaygate.fronts.session_stream import SSE_HEADERS
from relaygate.pipeline.auth import Principal
from relaygate.store.agents import WorkflowRunRow
from relaygate.streaming.sse import event_frame


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def _runner(request: Request) -> tuple[WorkflowRunner, Principal]:
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    return (await gateway.agents()).workflows, principal


async def _workflow(runner: WorkflowRunner, name: str) -> WorkflowSpec:
    spec = await runner.workflow(name)
    if spec is None:
        raise NotFound(f"No workflow named {name!r}.", param="name", code="workflow_not_found")
    return spec


async def _row(runner: WorkflowRunner, principal: Principal, run_id: str) -> WorkflowRunRow:
    row = await runner.runs.get(principal.tenant, run_id)
    if row is None:
        raise NotFound("No such workflow run.", param="id", code="run_not_found")
    return row


async def create_run(request: Request) -> Response:
    runner, principal = await _runner(request)
    _, raw = await read_json_object(request, gateway_of(request))
    name = request.path_params["name"]
    spec = await _workflow(runner, name)
    check_input(spec, raw.get("input"))
    now = time.time()
    row = WorkflowRunRow(id=f"wfrun_{uuid.uuid4().hex}", tenant=principal.tenant,
                         workflow=name, key_id=principal.key_id,
                         scoped=principal.grant is not None, status="running", input=raw.get("input"),
                         steps={}, created_at=now, updated_at=now, owner=runner.owner,
                         expires_at=runner.expires())
    await runner.runs.insert(row)
    runner.start_run(row, WorkflowRun(spec, row.input), principal,
                     context_of(request).request_id)
    return _json(run_json(row), 202)


async def get_run(request: Request) -> Response:
    runner, principal = await _runner(request)
    return _json(run_json(await _row(runner, principal, request.path_params["id"])))


async def cancel_run(request: Request) -> Response:
    runner, principal = await _runner(request)
    run_id = request.path_params["id"]
    row = await _row(runner, principal, run_id)
    if not await runner.cancel(run_id) and row.status == "running":
        await runner.runs.end(run_id, "cancelled")  # held elsewhere: its owner stops at its next step
    return _json(run_json(await _row(runner, principal, run_id)))


async def approve_step(request: Request) -> Response:
    runner, principal = await _runner(request)
    run_id, step_id = request.path_params["id"], request.path_params["step"]
    await _row(runner, principal, run_id)
    _, raw = await read_json_object(request, gateway_of(request))
    await gateway_of(request).bus.publish(approval_topic(run_id, step_id),
                                          {"output": raw.get("output")})
    return _json({"id": run_id, "step": step_id, "approved": True})


async def retry_step(request: Request) -> Response:
    """Run a finished run again from its stored steps, the failed `step` reset to pending."""
    runner, principal = await _runner(request)
    run_id, step_id = request.path_params["id"], request.path_params["step"]
    row = await _row(runner, principal, run_id)
    state = row.steps.get(step_id)
    if state is None or state.get("status") != "failed" or row.status == "running":
        raise InvalidRequest(f"Step {step_id!r} of this run has not failed (or it still runs).",
                             param="step", code="step_not_failed")
    spec = await _workflow(runner, row.workflow)
    kept = runner.kept_steps(row)
    row.steps = {key: dataclasses.asdict(value) for key, value in kept.items()}
    if not await runner.runs.claim(row, runner.owner, runner.expires()):
        raise InvalidRequest("This run is already running again.", param="step",
                             code="step_not_failed")
    runner.resume(row, spec, principal, context_of(request).request_id)
    return _json(run_json(row), 202)


async def run_events(request: Request) -> Response:
    """The run's events as SSE (`step`, then `run.<status>`), resuming after Last-Event-ID."""
    runner, principal = await _runner(request)
    run_id = request.path_params["id"]
    row = await _row(runner, principal, run_id)
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    after = int(raw) if raw and raw.isdigit() else 0
    log = gateway_of(request).event_log

    async def frames() -> AsyncIterator[bytes]:
        if not await log.exists(run_id):  # run elsewhere, or long ago: its stored state
            yield event_frame(f"run.{row.status}", run_json(row))
            return
        async for event in log.follow(run_id, after):
            yield event_frame(str(event.data["event"]), event.data["data"], str(event.sequence))

    return StreamingResponse(frames(), media_type="text/event-stream", headers=SSE_HEADERS)
