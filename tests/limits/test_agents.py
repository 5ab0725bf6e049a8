"""Agent runs count each model call against the key that started them; one stopped by
its limit ends with a clear error event, never a hang."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.limits.support import AUTH, config, serve
from tests.support.metrics import metric
from tests.support.sessions import sse_events


def _events(reply: httpx.Response) -> list[tuple[str, Any]]:
    """The SSE events of a whole body (without a closing `data: [DONE]`)."""
    done = httpx.Response(200, text=reply.text.replace("data: [DONE]", ""))
    return [(event.name, event.data) for event in sse_events(done)]


def test_a_session_turn_stopped_at_its_second_step_ends_with_an_error_event(
    tmp_path: Path,
) -> None:
    with serve(config(tmp_path, key_limits={"rpm": 1})) as url, \
            httpx.Client(base_url=url, headers=AUTH, timeout=10) as client:
        created = client.post("/api/sessions", json={"model": "mock", "tools": ["calculator"]})
        assert created.status_code == 200, created.text
        turn = client.post(f"/api/sessions/{created.json()['session_id']}/messages",
                           json={"message": "Calculate 5 + 3", "stream": True})
        rejected = metric(url, "relaygate_limit_rejections_total", owner_kind="key")
    assert turn.status_code == 200
    events = _events(turn)
    names = [name for name, _ in events]
    assert names == ["message", "tool_call", "tool_result", "error"], events
    error = events[-1][1]["error"]
    assert error["code"] == "rate_limit_exceeded" and error["status"] == 429
    assert "requests per minute" in error["message"]
    assert rejected == 1


def test_a_responses_hosted_tool_loop_refused_at_its_second_step_fails_cleanly(
    tmp_path: Path,
) -> None:
    body = {"model": "mock", "input": "Calculate 5 + 3", "stream": True,
            "tools": [{"type": "relaygate:calculator"}]}
    with serve(config(tmp_path, key_limits={"rpm": 1})) as url, \
            httpx.Client(base_url=url, headers=AUTH, timeout=10) as client:
        streamed = client.post("/v1/responses", json=body)
        whole = client.post("/v1/responses", json={**body, "stream": False})
    assert streamed.status_code == 200
    events = _events(streamed)
    names = [name for name, _ in events]
    assert "response.output_item.done" in names  # the first step (the tool call) ran
    last_name, last = events[-1]
    assert last_name == "response.failed", names
    error = last["response"]["error"]
    assert error["code"] == "rate_limit_exceeded", error
    assert whole.status_code == 429  # the key's minute is spent: refused before it starts
    assert whole.json()["error"]["type"] == "requests"
