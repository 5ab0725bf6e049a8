"""With `storage.redis_url`, a stream that follows the Redis event log waits out a long
silence: a background run whose first token comes after 30 s, resumed meanwhile, and an
idle session stream both deliver what comes after it (on a real Redis). The one slow test
of the suite, on purpose: the silence must outlast every timeout in the way."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from tests.conftest import REDIS_URL
from tests.support.responses_schema import parse_frames
from tests.support.servers import run_gateway
from tests.support.sessions import SSEReader, completed

SILENCE_MS = 30_000


def test_streams_on_redis_outlive_thirty_seconds_of_silence(tmp_path: Path) -> None:
    config = {
        "storage": {"redis_url": REDIS_URL},
        "providers": {
            "mock": {"type": "mock"},
            "sleepy": {"type": "mock", "stream_delay_ms": SILENCE_MS},  # before each word
        },
        "models": [
            {"name": "echo", "provider": "mock"},
            {"name": "sleepy", "provider": "sleepy", "model": "echo"},
        ],
        "sessions": {"keepalive_seconds": 10},
        "server": {"shutdown_grace_seconds": 1},
    }
    timeout = httpx.Timeout(10.0, read=SILENCE_MS / 1000 + 20)
    with run_gateway(tmp_path, config) as gateway, \
            httpx.Client(base_url=gateway.base_url, timeout=timeout) as http:
        body = {"model": "sleepy", "input": "patience", "background": True}
        response_id = http.post("/v1/responses", json=body).json()["id"]
        resumed: list[bytes] = []
        reader = threading.Thread(target=lambda: resumed.append(http.get(
            f"/v1/responses/{response_id}", params={"stream": "true", "starting_after": 3}
        ).content))
        reader.start()
        session_id = http.post("/api/sessions", json={"model": "echo"}).json()["session_id"]
        with SSEReader(f"{gateway.base_url}/api/sessions/{session_id}/stream") as stream:
            assert stream.next() is not None  # the welcome, then silence
            reader.join(SILENCE_MS / 1000 + 15)
            events = parse_frames(resumed[0])
            assert [e["type"] for e in events] == [
                "response.output_item.added", "response.content_part.added",
                "response.output_text.delta", "response.output_text.done",
                "response.content_part.done", "response.output_item.done", "response.completed",
            ]
            assert events[0]["sequence_number"] == 4
            assert events[-1]["response"]["output"][0]["content"][0]["text"] == "patience"
            http.post(f"/api/sessions/{session_id}/messages", json={"message": "still here"})
            turn = stream.until(completed)
        assert turn[-1].name == "message.completed"
        assert turn[-1].data["message"]["content"] == "still here"
        assert "Timeout reading" not in gateway.logs()
