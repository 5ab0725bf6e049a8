"""An acknowledged message is on disk: kill the gateway with SIGKILL mid-conversation,
restart it on the same database, and find every acknowledged message and the usage.
Several gateways on one database never interleave two turns of one session."""

from __future__ import annotations

import asyncio
import signal
import threading
from pathlib import Path
from typing import Any

import httpx

from tests.support.databases import database_url
from tests.support.servers import run_gateway
from tests.support.sessions import SSEReader, sse_events

CONFIG: dict[str, Any] = {
    "server": {"shutdown_grace_seconds": 1},
    "providers": {"mock": {"type": "mock"}, "slow": {"type": "mock", "stream_delay_ms": 40}},
    "models": [
        {"name": "mock", "provider": "mock"},
        {"name": "slow-echo", "provider": "slow", "model": "echo"},
    ],
}


def _stream_until_killed(url: str, started: threading.Event) -> None:
    body = {"message": "a long answer " * 40, "stream": True, "model": "slow-echo"}
    try:
        with httpx.stream("POST", url, json=body, timeout=30) as response:
            for line in response.iter_lines():
                if line.startswith("event: chunk"):
                    started.set()
    except httpx.HTTPError:
        pass  # the gateway was killed under us
    finally:
        started.set()


def test_sigkill_keeps_every_acknowledged_message(database: str, tmp_path: Path) -> None:
    config = {**CONFIG, "storage": {"database_url": database}}
    with run_gateway(tmp_path, config) as server:
        api = httpx.Client(base_url=server.base_url, timeout=30)
        session_id = api.post(
            "/api/sessions", json={"model": "mock", "allowed_models": ["slow-echo"]}
        ).json()["session_id"]
        acknowledged = []
        for n in range(5):
            reply = api.post(
                f"/api/sessions/{session_id}/messages", json={"message": f"Calculate {n} + 1"}
            )
            assert reply.status_code == 200
            acknowledged.append(reply.json())
        before = api.get(f"/api/sessions/{session_id}/usage").json()

        started = threading.Event()
        url = f"{server.base_url}/api/sessions/{session_id}/messages"
        in_flight = threading.Thread(target=_stream_until_killed, args=(url, started))
        in_flight.start()
        assert started.wait(10)
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
        in_flight.join(10)
        api.close()

        try:
            server.start()  # the same database, the same port
        except (RuntimeError, TimeoutError) as exc:
            raise AssertionError(f"restart failed: {exc}\n{server.logs()[-4000:]}") from exc
        with httpx.Client(base_url=server.base_url, timeout=30) as api:
            history = api.get(
                f"/api/sessions/{session_id}/messages", params={"limit": 1000}
            ).json()["data"]
            usage = api.get(f"/api/sessions/{session_id}/usage").json()
            expected = [
                (m["role"], m["content"]) for turn in acknowledged for m in turn["messages"]
            ]
            assert [
                (m["role"], m["content"]) for m in history
            ] == expected  # the killed turn: absent
            assert [m["content"] for m in history[1::2]] == [f"{n} + 1 = {n + 1}" for n in range(5)]
            assert usage == before
            assert usage["input_tokens"] == sum(t["usage"]["input_tokens"] for t in acknowledged)
            assert usage["output_tokens"] == sum(t["usage"]["output_tokens"] for t in acknowledged)

            after = api.post(f"/api/sessions/{session_id}/messages", json={"message": "hello"})
            assert after.status_code == 200
            assert [m["seq"] for m in after.json()["messages"]] == [11, 12]

            # a clean stop (SIGTERM) ends live streams with a shutdown event
            url = f"{server.base_url}/api/sessions/{session_id}/stream"
            with SSEReader(url) as stream:
                assert stream.next() is not None
                assert server.stop() in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM
                ended = stream.rest(timeout=10)
            assert [e.data["error"]["code"] for e in ended] == ["server_shutdown"]


def _turn_outcome(reply: httpx.Response) -> str:
    """`ok` or the error code of a streamed turn."""
    last = sse_events(reply)[-1]
    return "ok" if last.name == "message.completed" else str(last.data["error"]["code"])


async def _race(urls: list[str], session_id: str) -> list[str]:
    async with httpx.AsyncClient(timeout=60) as client:

        async def post(n: int) -> str:
            body = {"message": f"turn {n} " + "word " * 30, "stream": True}
            url = f"{urls[n % len(urls)]}/api/sessions/{session_id}/messages"
            return _turn_outcome(await client.post(url, json=body))

        return list(await asyncio.gather(*(post(n) for n in range(10))))


def test_two_instances_on_one_database_never_interleave(tmp_path: Path) -> None:
    """Several gateways sharing PostgreSQL: a turn that loses the race appends nothing."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with database_url("postgres", tmp_path) as url:
        config = {**CONFIG, "storage": {"database_url": url}}
        with (
            run_gateway(tmp_path / "a", config) as first,
            run_gateway(tmp_path / "b", config) as second,
        ):
            session_id = httpx.post(
                f"{first.base_url}/api/sessions", json={"model": "slow-echo"}
            ).json()["session_id"]
            outcomes = asyncio.run(_race([first.base_url, second.base_url], session_id))
            history = httpx.get(
                f"{second.base_url}/api/sessions/{session_id}/messages", params={"limit": 1000}
            ).json()["data"]
    assert set(outcomes) == {"ok", "session_busy"}  # the race happened, the guard held
    assert len(history) == 2 * outcomes.count("ok")
    assert [m["role"] for m in history] == ["user", "assistant"] * outcomes.count("ok")
    for user, assistant in zip(history[::2], history[1::2], strict=True):
        assert assistant["content"] == user["content"]
    prompts = [m["usage"]["input_tokens"] for m in history[1::2]]
    assert prompts == sorted(set(prompts))  # each committed turn saw all the earlier ones
