"""A workflow run whose gateway is killed (SIGKILL) mid-run is taken over by a second
gateway on the same database and finishes there with the same result: the steps finished
before the kill are kept, not run again."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.servers import run_gateway

FLOW: dict[str, Any] = {"steps": [
    {"id": "first", "type": "tool", "tool": "timestamp", "arguments": {}},
    {"id": "gate", "type": "wait", "timeout_seconds": 30, "depends_on": ["first"]},
    {"id": "last", "type": "tool", "tool": "echo", "depends_on": ["gate"],
     "arguments": {"text": "{{ steps.gate.output }} at {{ steps.first.output }}"}},
]}
CONFIG = {"responses": {"lease_seconds": 1.0}, "workflows": {"flow": FLOW}}


def _until(client: httpx.Client, run_id: str, check: Any, seconds: float = 15) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = client.get(f"/v1/workflows/runs/{run_id}").json()
        if check(body) or body["status"] != "running":
            return body
        time.sleep(0.1)
    raise AssertionError(f"not reached: {body}")


def test_a_killed_run_resumes_on_another_instance(tmp_path: Path) -> None:
    with run_gateway(tmp_path, CONFIG) as first, run_gateway(tmp_path, CONFIG) as second:
        with httpx.Client(base_url=first.base_url, timeout=10) as client:
            run_id = client.post("/v1/workflows/flow/runs", json={}).json()["id"]
            before = _until(client, run_id,
                            lambda body: body["steps"].get("gate", {}).get("status") == "running")
        first.stop(signal.SIGKILL)
        with httpx.Client(base_url=second.base_url, timeout=10) as client:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:  # taken over once the lease runs out
                client.post(f"/v1/workflows/runs/{run_id}/steps/gate/approve",
                            json={"output": "approved"})
                body = client.get(f"/v1/workflows/runs/{run_id}").json()
                if body["status"] != "running":
                    break
                time.sleep(0.2)
            assert body["status"] == "completed", body
            first_output = before["steps"]["first"]["output"]
            assert body["steps"]["first"]["output"] == first_output  # kept, not run again
            assert body["steps"]["last"]["output"] == f"approved at {first_output}"
