"""Background runs of `/v1/responses`: the task body, and stopping a run from any
instance.

Each run listens on the bus topic `responses:cancel:<id>`. `stop` cancels a run of this
instance directly; otherwise it publishes on that topic (Redis carries it to the
instance running the response) and waits until the stored response is terminal.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from relaygate.fronts.responses.context import response_store
from relaygate.fronts.responses.engine import ResponseRun
from relaygate.services import Gateway

CANCEL_WAIT_S = 5.0  # how long `stop` waits for another instance to record the cancel
_POLL_S = 0.05
RUNNING = frozenset({"queued", "in_progress"})


def cancel_topic(response_id: str) -> str:
    return f"responses:cancel:{response_id}"


async def _cancel_when_asked(messages: AsyncIterator[dict[str, Any]],
                             task: asyncio.Task[Any]) -> None:
    async for _ in messages:
        task.cancel()
        return


async def _run(run: ResponseRun) -> None:
    log = run.gateway.event_log
    try:
        await run.persist()
        async for event in run.events(run.canonical(), started=True):
            await log.append(run.state.id, event)
    except asyncio.CancelledError:
        for event in run.encoder.cancel():
            await log.append(run.state.id, event)
        await run.persist()
        raise
    finally:
        await log.close(run.state.id)


async def run_background(run: ResponseRun) -> None:
    """The body of a background task: every event into the event log, then the state;
    a cancel published on the bus (by any instance) stops it."""
    task = asyncio.current_task()
    assert task is not None
    async with run.gateway.bus.subscribe(cancel_topic(run.state.id)) as messages:
        watcher = asyncio.create_task(_cancel_when_asked(messages, task))
        try:
            await _run(run)
        finally:
            watcher.cancel()


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
        await asyncio.sleep(_POLL_S)
