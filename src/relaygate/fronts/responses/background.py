"""Background runs of `/v1/responses`: the task body, and stopping a run from any
instance.

Each run listens on the bus topic `responses:cancel:<id>`. `stop` cancels a run of this
instance directly; otherwise it publishes on that topic (Redis carries it to the
instance running the response) and waits until the stored response is terminal.
Each run is held under a lease (`pipeline/run_leases.py`): a run whose instance is gone
is ended `failed` when its lease runs out, and `settle` checks that before a client is
answered about a run still going.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from relaygate.fronts.responses.context import response_store
from relaygate.fronts.responses.engine import ResponseRun
from relaygate.observability.tracing.current import span
from relaygate.pipeline.run_leases import RUNNING, RunLeases
from relaygate.services import Gateway

CANCEL_WAIT_S = 5.0  # how long `stop` waits for another instance to record the cancel
_POLL_S = 0.05


def cancel_topic(response_id: str) -> str:
    return f"responses:cancel:{response_id}"


async def _cancel_when_asked(messages: AsyncIterator[dict[str, Any]],
                             task: asyncio.Task[Any]) -> None:
    async for _ in messages:
        task.cancel()
        return


async def _cancel_when_lost(lost: asyncio.Event, task: asyncio.Task[Any]) -> None:
    await lost.wait()
    task.cancel()


async def _run(run: ResponseRun, lost: asyncio.Event) -> None:
    with span("relaygate.response.background", {"relaygate.response.id": run.state.id},
              root=True, link_current=True):  # its own trace, linked to the queuing request
        await _run_events(run, lost)


async def _run_events(run: ResponseRun, lost: asyncio.Event) -> None:
    log = run.gateway.event_log
    try:
        await run.persist()
        async for event in run.events(run.canonical(), started=True):
            await log.append(run.state.id, event)
    except asyncio.CancelledError:
        if lost.is_set():
            raise  # another instance has ended it: write nothing more
        for event in run.encoder.cancel():
            await log.append(run.state.id, event)
        await run.persist()
        raise
    finally:
        run.gateway.metrics.background_runs.labels(str(run.state.status)).inc()
        if not lost.is_set():
            await log.close(run.state.id)


async def run_background(run: ResponseRun, leases: RunLeases, lost: asyncio.Event) -> None:
    """The body of a background task: every event into the event log, then the state;
    a cancel published on the bus (by any instance) stops it, and so does losing its
    lease (`lost`, from `leases.claim`); the lease is released at the end."""
    task = asyncio.current_task()
    assert task is not None
    async with run.gateway.bus.subscribe(cancel_topic(run.state.id)) as messages:
        watchers = [asyncio.create_task(_cancel_when_asked(messages, task)),
                    asyncio.create_task(_cancel_when_lost(lost, task))]
        try:
            await _run(run, lost)
        finally:
            for watcher in watchers:
                watcher.cancel()
            if not lost.is_set():
                await leases.release(run.state.id)


async def settle(gateway: Gateway, tenant: str, response_id: str,
                 body: dict[str, Any]) -> dict[str, Any]:
    """The stored `body` of a response, after ending its run if it is a background run
    still going whose instance is gone (its lease ran out)."""
    if not body.get("background") or body.get("status") not in RUNNING:
        return body
    if not await (await gateway.agents()).leases.settle(response_id):
        return body
    store = await response_store(gateway)
    return await store.get(tenant, response_id) or body


async def stop(gateway: Gateway, tenant: str, response_id: str) -> None:
    """Stop a running background response wherever it runs; returns once it is
    recorded as stopped (or after CANCEL_WAIT_S when no instance answers)."""
    if await gateway.background.cancel(response_id):
        return
    await gateway.bus.publish(cancel_topic(response_id), {"cancel": response_id})
    store = await response_store(gateway)
    deadline = asyncio.get_running_loop().time() + CANCEL_WAIT_S
    while asyncio.get_running_loop().time() < deadline:
        body = await store.get(tenant, response_id)
        if body is None or body.get("status") not in RUNNING:
            return
        if await (await gateway.agents()).leases.settle(response_id):
            return  # nobody ran it any more: ended `failed`, its lease having run out
        await asyncio.sleep(_POLL_S)
