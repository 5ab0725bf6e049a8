"""Running workflows (a background task per run; each step's state stored as it changes):

    POST /v1/workflows/{name}/runs      {input} → 202 the run (400 on a schema mismatch)
    GET  /v1/workflows/runs/{id}        status and per-step state
    POST /v1/workflows/runs/{id}/cancel
    POST /v1/workflows/runs/{id}/steps/{step}/approve   {output?} ends a `wait` step
    POST /v1/workflows/runs/{id}/steps/{step}/retry     a failed run goes on from its
                                                         stored steps, `step` run again
    GET  /v1/workflows/runs/{id}/events   SSE: `step` events, then `run.<status>`
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from relaygate.agents.services import AgentServices
from relaygate.agents.workflows.engine import StepState, WorkflowRun, run_workflow
from relaygate.agents.workflows.leaves import approval_topic, leaf_runner
from relaygate.agents.workflows.spec import WorkflowSpec, check_input
from relaygate.errors import InvalidRequest, NotFound
from relaygate.fronts.common import authenticate, context_of, gateway_of, read_json_object
from relaygate.fronts.session_stream import SSE_HEADERS
from relaygate.pipeline.call import Endpoint, Origin
from relaygate.services import Gateway
from relaygate.store.agents import AgentStore, WorkflowRow, WorkflowRunRow, WorkflowRunStore
from relaygate.streaming.sse import event_frame


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def run_json(row: WorkflowRunRow) -> dict[str, Any]:
    return {"id": row.id, "object": "workflow.run", "workflow": row.workflow,
            "status": row.status, "input": row.input, "steps": row.steps,
            "created_at": row.created_at, "updated_at": row.updated_at}


async def _workflow(gateway: Gateway, name: str) -> WorkflowSpec:
    if name in gateway.settings.workflows:
        return gateway.settings.workflows[name]
    stored = await AgentStore(await gateway.database(), WorkflowRow).get(name)
    if stored is None:
        raise NotFound(f"No workflow named {name!r}.", param="name", code="workflow_not_found")
    return WorkflowSpec.model_validate(stored)


async def create_run(request: Request) -> Response:
    gateway = gateway_of(request)
    context = context_of(request)
    principal = await authenticate(request, gateway, context)
    _, raw = await read_json_object(request, gateway)
    name = request.path_params["name"]
    spec = await _workflow(gateway, name)
    check_input(spec, raw.get("input"))
    services = await gateway.agents()
    store = WorkflowRunStore(await gateway.database())
    now = time.time()
    row = WorkflowRunRow(id=f"wfrun_{uuid.uuid4().hex}", tenant=principal.tenant,
                         workflow=name, status="running", input=raw.get("input"),
                         steps={}, created_at=now, updated_at=now)
    await store.save(row)
    _start(gateway, services, Origin(principal, context.request_id, Endpoint.SESSION),
           row, WorkflowRun(spec, row.input))
    return _json(run_json(row), 202)


def _start(gateway: Gateway, services: AgentServices, origin: Origin, row: WorkflowRunRow,
           run: WorkflowRun) -> None:
    """Run (or go on with) `run` as a background task: each step's state stored and logged."""
    store = WorkflowRunStore(services.database)
    log = gateway.event_log

    async def on_step(step_id: str, state: StepState) -> None:
        payload = {"step": step_id, **dataclasses.asdict(state)}
        row.steps = {**row.steps, step_id: dataclasses.asdict(state)}
        row.updated_at = time.time()
        await store.save(row)
        await log.append(row.id, {"event": "step", "data": payload})

    async def work() -> None:
        try:
            row.status = await run_workflow(
                run, leaf_runner(services, gateway.pipeline, origin, gateway.bus, row.id),
                on_step)
        except asyncio.CancelledError:
            row.status = "cancelled"
            raise
        except Exception:
            row.status = "failed"
            raise
        finally:
            row.updated_at = time.time()
            await store.save(row)
            await log.append(row.id, {"event": f"run.{row.status}", "data": run_json(row)})
            await log.close(row.id)

    gateway.background.start(row.id, work())


async def retry_step(request: Request) -> Response:
    """Run a finished run again from its stored steps, the failed `step` reset to pending."""
    gateway = gateway_of(request)
    context = context_of(request)
    principal = await authenticate(request, gateway, context)
    run_id, step_id = request.path_params["id"], request.path_params["step"]
    services = await gateway.agents()
    row = await WorkflowRunStore(services.database).get(principal.tenant, run_id)
    if row is None:
        raise NotFound("No such workflow run.", param="id", code="run_not_found")
    state = row.steps.get(step_id)
    if state is None or state.get("status") != "failed" or row.status == "running":
        raise InvalidRequest(f"Step {step_id!r} of this run has not failed (or it still runs).",
                             param="step", code="step_not_failed")
    spec = await _workflow(gateway, row.workflow)
    states = {key: StepState(**value) for key, value in row.steps.items()
              if value.get("status") in ("completed", "skipped")}
    row.status = "running"
    row.steps = {key: dataclasses.asdict(value) for key, value in states.items()}
    await WorkflowRunStore(services.database).save(row)
    _start(gateway, services, Origin(principal, context.request_id, Endpoint.SESSION), row,
           WorkflowRun(spec, row.input, states))
    return _json(run_json(row), 202)


async def run_events(request: Request) -> Response:
    """The run's events as SSE (`step`, then `run.<status>`), resuming after Last-Event-ID."""
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    run_id = request.path_params["id"]
    row = await WorkflowRunStore(await gateway.database()).get(principal.tenant, run_id)
    if row is None:
        raise NotFound("No such workflow run.", param="id", code="run_not_found")
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    after = int(raw) if raw and raw.isdigit() else 0
    log = gateway.event_log

    async def frames() -> AsyncIterator[bytes]:
        if not await log.exists(run_id):  # run elsewhere, or long ago: its stored state
            yield event_frame(f"run.{row.status}", run_json(row))
            return
        async for event in log.follow(run_id, after):
            yield event_frame(str(event.data["event"]), event.data["data"], str(event.sequence))

    return StreamingResponse(frames(), media_type="text/event-stream", headers=SSE_HEADERS)


async def get_run(request: Request) -> Response:
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    row = await WorkflowRunStore(await gateway.database()).get(principal.tenant,
                                                               request.path_params["id"])
    if row is None:
        raise NotFound("No such workflow run.", param="id", code="run_not_found")
    return _json(run_json(row))


async def cancel_run(request: Request) -> Response:
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    store = WorkflowRunStore(await gateway.database())
    run_id = request.path_params["id"]
    if await store.get(principal.tenant, run_id) is None:
        raise NotFound("No such workflow run.", param="id", code="run_not_found")
    await gateway.background.cancel(run_id)
    row = await store.get(principal.tenant, run_id)
    assert row is not None
    return _json(run_json(row))


async def approve_step(request: Request) -> Response:
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    run_id, step_id = request.path_params["id"], request.path_params["step"]
    if await WorkflowRunStore(await gateway.database()).get(principal.tenant, run_id) is None:
        raise NotFound("No such workflow run.", param="id", code="run_not_found")
    _, raw = await read_json_object(request, gateway)
    await gateway.bus.publish(approval_topic(run_id, step_id), {"output": raw.get("output")})
    return _json({"id": run_id, "step": step_id, "approved": True})
