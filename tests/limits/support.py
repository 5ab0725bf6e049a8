"""The limits tests' gateway: in-process (uvicorn on a thread, with its lifespan), configs
with a mock provider, and the metrics as numbers."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from relaygate.app import create_app
from relaygate.config import Settings
from relaygate.store import migrate
from tests.support.servers import free_port

KEY = "sk-limits-test-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}


def config(tmp_path: Path, limits: dict[str, Any] | None = None,
           key_limits: dict[str, Any] | None = None, **more: Any) -> dict[str, Any]:
    """A gateway with the mock provider (and a slow one), one key with `key_limits`."""
    key: dict[str, Any] = {"tenant": "acme", "key": KEY, "name": "limited"}
    if key_limits is not None:
        key["limits"] = key_limits
    return {
        "providers": {"mock": {"type": "mock"}, "slow": {"type": "mock", "stream_delay_ms": 50}},
        "models": [
            {"name": "mock", "provider": "mock"},
            {"name": "echo", "provider": "mock"},
            {"name": "slow-echo", "provider": "slow", "model": "echo"},
        ],
        "keys": [key],
        "limits": {"redis_prefix": f"test:{uuid.uuid4().hex}:", **(limits or {})},
        "storage": {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'relaygate.db'}"},
        **more,
    }


@contextmanager
def serve(settings: dict[str, Any]) -> Iterator[str]:
    """The gateway for `settings` on a free port, its base URL."""
    port = free_port()
    parsed = Settings.model_validate(settings)
    failure = migrate.finish_child(migrate.start_child(parsed.storage.database_url))
    assert failure is None, failure
    app = create_app(parsed)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise TimeoutError("the gateway did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)




def chat(client: httpx.Client, content: str = "hello", **body: Any) -> httpx.Response:
    return client.post("/v1/chat/completions", json={
        "model": "mock", "messages": [{"role": "user", "content": content}], **body})
