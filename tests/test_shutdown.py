"""SIGTERM: stop accepting, let short streams finish, end long ones cleanly."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.servers import ThreadedServer, run_gateway

GRACE = 1.5


@pytest.fixture
def fake_upstream() -> Iterator[ThreadedServer]:
    with ThreadedServer(FakeOpenAI().app) as server:
        yield server


def _config(upstream: str) -> dict[str, object]:
    return {
        "server": {"shutdown_grace_seconds": GRACE},
        "providers": {
            "up": {"type": "openai", "base_url": f"{upstream}/v1", "api_key": "sk-x"},
            "slowmock": {"type": "mock", "stream_delay_ms": 100},
        },
        "models": [
            {"name": "relayed-slow", "provider": "up", "model": "slow-stream"},
            {"name": "relayed-stall", "provider": "up", "model": "stall-stream"},
            {"name": "relayed-hang", "provider": "up", "model": "hang"},
            {"name": "mock-slow", "provider": "slowmock", "model": "echo"},
        ],
    }


def _stream(base_url: str, model: str, text: str, out: dict[str, object]) -> None:
    body = {"model": model, "messages": [{"role": "user", "content": text}], "stream": True}
    frames: list[str] = []
    try:
        with httpx.stream("POST", f"{base_url}/v1/chat/completions", json=body, timeout=30) as r:
            out["status"] = r.status_code
            for line in r.iter_lines():
                if line.startswith("data: "):
                    frames.append(line[6:])
    except httpx.HTTPError as exc:
        out["exception"] = repr(exc)
    out["frames"] = frames
    out["ended"] = time.monotonic()


def _ask(base_url: str, model: str, out: dict[str, object]) -> None:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    try:
        reply = httpx.post(f"{base_url}/v1/chat/completions", json=body, timeout=30)
        out["status"], out["body"] = reply.status_code, reply.json()
    except httpx.HTTPError as exc:
        out["exception"] = repr(exc)
    out["ended"] = time.monotonic()


def _content(frames: list[str]) -> str:
    text = ""
    for frame in frames:
        if frame == "[DONE]":
            continue
        chunk = json.loads(frame)
        for choice in chunk.get("choices") or []:
            text += choice["delta"].get("content") or ""
    return text


def test_sigterm_drains_streams(tmp_path: Path, fake_upstream: ThreadedServer) -> None:
    with run_gateway(tmp_path, _config(fake_upstream.base_url)) as gateway:
        short_words = " ".join(f"s{i}" for i in range(6))  # ~0.6 s: finishes within grace
        long_words = " ".join(f"l{i}" for i in range(100))  # ~10 s: outlives the grace
        results: dict[str, dict[str, object]] = {
            "short": {},
            "long_mock": {},
            "long_relay": {},
            "stalled_relay": {},
        }
        waiting: dict[str, object] = {}
        threads = [
            threading.Thread(
                target=_stream, args=(gateway.base_url, "mock-slow", short_words, results["short"])
            ),
            threading.Thread(
                target=_stream,
                args=(gateway.base_url, "mock-slow", long_words, results["long_mock"]),
            ),
            threading.Thread(
                target=_stream, args=(gateway.base_url, "relayed-slow", "x", results["long_relay"])
            ),
            threading.Thread(  # two words, then the upstream goes silent
                target=_stream,
                args=(gateway.base_url, "relayed-stall", "one two three", results["stalled_relay"]),
            ),
            threading.Thread(target=_ask, args=(gateway.base_url, "relayed-hang", waiting)),
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.3)  # all three streams are under way
        signalled = time.monotonic()
        assert gateway.process is not None
        gateway.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        with pytest.raises(httpx.ConnectError):  # no longer accepting
            httpx.get(f"{gateway.base_url}/healthz", timeout=2)
        for thread in threads:
            thread.join(20)
        code = gateway.process.wait(20)
        stopped = time.monotonic()

    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled
    short = results["short"]
    assert "exception" not in short, short
    assert _content(short["frames"]) == short_words  # type: ignore[arg-type]
    assert short["frames"][-1] == "[DONE]"  # type: ignore[index]
    for name in ("long_mock", "long_relay", "stalled_relay"):
        result = results[name]
        assert "exception" not in result, (name, result)
        frames = result["frames"]
        assert isinstance(frames, list) and frames[-1] == "[DONE]", (name, frames[-3:])
        last = json.loads(frames[-2])
        assert last["error"]["code"] == "server_shutdown", (name, last)
        assert 0 < len(_content(frames)) < 400  # it was cut short, after real content
        ended = result["ended"]
        assert isinstance(ended, float)
        assert GRACE - 1.0 <= ended - signalled <= GRACE + 1.5, (name, ended - signalled)
    assert stopped - signalled < GRACE + 4
    # a plain request still waiting on its upstream when the grace ends: a clean 503
    assert waiting["status"] == 503, waiting
    assert waiting["body"]["error"]["code"] == "server_shutdown"  # type: ignore[index]
    assert GRACE - 1.0 <= waiting["ended"] - signalled <= GRACE + 1.5  # type: ignore[operator]
