"""Background responses whose gateway was killed (SIGKILL) mid-run: after a restart on
the same database (SQLite, PostgreSQL) they end `failed` with the documented error, the
resume stream ends with `response.failed`, cancel answers at once, and a run that had
finished before the kill keeps its result."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REDIS_URL
from tests.support.databases import BACKENDS, database_url
from tests.support.responses_schema import parse_frames
from tests.support.servers import run_gateway

LEASE_SECONDS = 1.0
ORPHANED = {"code": "server_error", "message": "the gateway instance running this response stopped"}


def _config(url: str) -> dict[str, Any]:
    return {
        "storage": {"database_url": url},
        "providers": {"mock": {"type": "mock"},
                      "slow": {"type": "mock", "stream_delay_ms": 100}},
        "models": [{"name": "echo", "provider": "mock"},
                   {"name": "slow", "provider": "slow", "model": "echo"}],
        "responses": {"lease_seconds": LEASE_SECONDS},
        "server": {"shutdown_grace_seconds": 1},
    }


def _start(http: httpx.Client, model: str, words: int) -> str:
    body = {"model": model, "input": " ".join(["word"] * words), "background": True}
    response_id: str = http.post("/v1/responses", json=body).json()["id"]
    return response_id


def _status(http: httpx.Client, response_id: str) -> str:
    status: str = http.get(f"/v1/responses/{response_id}").json()["status"]
    return status


@pytest.mark.parametrize("backend", BACKENDS)
def test_runs_of_a_killed_gateway_end_failed_after_a_restart(
    backend: str, tmp_path: Path
) -> None:
    with database_url(backend, tmp_path) as url, run_gateway(tmp_path, _config(url)) as gateway:
        with httpx.Client(base_url=gateway.base_url, timeout=10) as http:
            finished = _start(http, "echo", 3)
            running = [_start(http, "slow", 100) for _ in range(3)]  # 10 s each
            deadline = time.monotonic() + 5
            while _status(http, finished) != "completed" and time.monotonic() < deadline:
                time.sleep(0.02)
            assert [_status(http, r) for r in running] == ["in_progress"] * 3
        gateway.stop(signal.SIGKILL)
        killed = time.monotonic()
        gateway.start()  # the same port and database
        time.sleep(max(0.0, LEASE_SECONDS - (time.monotonic() - killed)))
        with httpx.Client(base_url=gateway.base_url, timeout=10) as http:
            retrieved = http.get(f"/v1/responses/{running[0]}").json()
            assert retrieved["status"] == "failed" and retrieved["error"] == ORPHANED
            resumed = parse_frames(http.get(f"/v1/responses/{running[1]}",
                                            params={"stream": "true", "starting_after": 3}).content)
            assert [e["type"] for e in resumed] == ["response.failed"]
            assert resumed[0]["sequence_number"] == 4
            assert resumed[0]["response"]["error"] == ORPHANED
            asked = time.monotonic()
            cancelled = http.post(f"/v1/responses/{running[2]}/cancel")
            assert time.monotonic() - asked < 1.0
            assert cancelled.status_code == 200
            assert cancelled.json()["status"] == "failed"
            assert cancelled.json()["error"] == ORPHANED
            done = http.get(f"/v1/responses/{finished}").json()
            assert done["status"] == "completed" and done["error"] is None
            replay = parse_frames(http.get(f"/v1/responses/{finished}",
                                           params={"stream": "true"}).content)
            assert [e["type"] for e in replay] == ["response.completed"]
        assert "Traceback" not in gateway.logs()


def test_a_run_of_a_killed_instance_is_resumed_on_another_to_its_failed_end(
    tmp_path: Path,
) -> None:
    """Two instances on one PostgreSQL and one Redis; the run's instance is killed while
    a client reads its stream. Resuming on the other instance with `starting_after=N`
    gives every event the dead instance had logged after N, then `response.failed`, which
    the surviving instance adds once the dead one's lease has run out."""
    k = 8
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with database_url("postgres", tmp_path) as url:
        config = {**_config(url), "storage": {"database_url": url, "redis_url": REDIS_URL}}
        with run_gateway(tmp_path / "a", config) as first, \
                run_gateway(tmp_path / "b", config) as second, \
                httpx.Client(timeout=10) as http:
            body = {"model": "slow", "input": " ".join(["word"] * 100), "background": True,
                    "stream": True}
            seen: list[dict[str, Any]] = []
            with http.stream("POST", f"{first.base_url}/v1/responses", json=body) as stream:
                buffer = b""
                for chunk in stream.iter_bytes():
                    buffer += chunk
                    while b"\n\n" in buffer and len(seen) < k:
                        frame, buffer = buffer.split(b"\n\n", 1)
                        seen += parse_frames(frame + b"\n\n")
                    if len(seen) >= k:
                        break
            response_id = seen[0]["response"]["id"]
            time.sleep(0.3)  # a few more words reach the log
            first.stop(signal.SIGKILL)
            resume = {"stream": "true", "starting_after": k}
            rest = parse_frames(http.get(f"{second.base_url}/v1/responses/{response_id}",
                                         params=resume).content)
            everything = parse_frames(http.get(f"{second.base_url}/v1/responses/{response_id}",
                                               params={"stream": "true"}).content)
            final = http.get(f"{second.base_url}/v1/responses/{response_id}").json()
    assert seen + rest == everything
    assert [e["sequence_number"] for e in rest] == list(range(k + 1, k + 1 + len(rest)))
    deltas = [e for e in rest if e["type"] == "response.output_text.delta"]
    assert deltas, "the words logged after N and before the kill"
    assert rest[-1]["type"] == "response.failed" and rest[-1]["response"]["error"] == ORPHANED
    assert [e["type"] for e in rest].count("response.failed") == 1
    assert final["status"] == "failed" and final["error"] == ORPHANED
