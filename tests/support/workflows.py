"""Waiting for a workflow run to leave `running`, through the runs API."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


async def finished_run(client: httpx.AsyncClient, run_id: str, tries: int = 300) -> dict[str, Any]:
    """The run's JSON once its status is no longer `running` (polled every 50 ms)."""
    for _ in range(tries):
        body: dict[str, Any] = (await client.get(f"/v1/workflows/runs/{run_id}")).json()
        if body["status"] != "running":
            return body
        await asyncio.sleep(0.05)
    raise AssertionError("the run did not finish")
