"""A named agent's run: its own `max_steps` bounds its loop, and its events resume after
`Last-Event-ID` at `/v1/agents/runs/{id}/events`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.in_process import in_process
from tests.support.threaded_gateway import serve

USER = {"Authorization": "Bearer sk-user-key-for-agent-runs"}


def _config(tmp_path: Path) -> dict[str, object]:
    return {
        "storage": {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"},
        "providers": {"mock": {"type": "mock"}},
        "models": [{"name": "mock", "provider": "mock"}],
        "keys": [{"key": USER["Authorization"][7:], "tenant": "team-a"}],
        "agents": {"short": {"model": "mock", "tools": ["calculator"], "max_steps": 1},
                   "long": {"model": "mock", "tools": ["calculator"]}},
    }


async def _loop_of(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    page = (await client.get(f"/api/sessions/{run_id}/messages", headers=USER)).json()
    loop: dict[str, Any] = page["data"][-1]["metadata"]["turn"]["agent_loop"]
    return loop


@pytest.mark.asyncio
async def test_an_agents_max_steps_bounds_its_loop(tmp_path: Path) -> None:
    async with in_process(_config(tmp_path)) as gw:
        client = gw.client
        short = (await client.post("/v1/agents/short/runs", headers=USER,
                                   json={"input": "What is 2 + 3?"})).json()
        assert await _loop_of(client, short["id"]) == {"stop_reason": "max_steps", "steps": 1}
        long = (await client.post("/v1/agents/long/runs", headers=USER,
                                  json={"input": "What is 2 + 3?"})).json()
        assert await _loop_of(client, long["id"]) == {"stop_reason": "answered", "steps": 2}
        assert "5" in str(long["output"])


def _events(text: str) -> list[tuple[str, str]]:
    """(id, event name) of each SSE frame with an id."""
    frames = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "id" in fields and "event" in fields:
            frames.append((fields["id"], fields["event"]))
    return frames


async def _read_until_completed(response: httpx.Response) -> str:
    text = ""
    async for chunk in response.aiter_text():
        text += chunk
        if "event: message.completed" in text:
            break
    return text


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """On a real socket: the events stream stays open (the ASGI transport would wait)."""
    with serve(_config(tmp_path)) as base_url:
        yield base_url


@pytest.mark.asyncio
async def test_run_events_resume_after_last_event_id(served: str) -> None:
    async with httpx.AsyncClient(base_url=served, timeout=20) as client:
        async with client.stream("POST", "/v1/agents/long/runs", headers=USER,
                                 json={"input": "What is 6 + 1?", "stream": True}) as live:
            run_id = live.headers["X-Relaygate-Run-Id"]
            seen = _events(await _read_until_completed(live))
        names = [name for _, name in seen]
        assert "tool_call" in names and names[-1] == "message.completed"

        resume_after = seen[names.index("tool_call")][0]
        async with client.stream("GET", f"/v1/agents/runs/{run_id}/events",
                                 headers={**USER, "Last-Event-ID": resume_after}) as again:
            replayed = _events(await _read_until_completed(again))
        expected = seen[names.index("tool_call") + 1:]
        assert replayed[1:] == expected  # after the welcome: exactly what came later
        assert replayed[0][1] == "message"  # the welcome

        missing = await client.get("/v1/agents/runs/sess_nope/events", headers=USER)
        assert missing.status_code == 404
