"""Tracing off (the default) costs nothing: a fresh interpreter serving a request never
imports the OpenTelemetry SDK."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import asyncio, sys
import httpx
from relaygate.app import create_app
from relaygate.config import Settings

async def main() -> None:
    app = create_app(Settings.model_validate({"ledger": {"enabled": False},
        "providers": {"mock": {"type": "mock"}}, "models": [{"name": "mock", "provider": "mock", "model": "mock"}]}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            reply = await client.post("/v1/chat/completions", json={
                "model": "mock", "messages": [{"role": "user", "content": "hi"}]})
            assert reply.status_code == 200, reply.text
            reply = await client.post("/v1/chat/completions", json={
                "model": "mock", "stream": True,
                "messages": [{"role": "user", "content": "hi"}]})
            assert reply.status_code == 200, reply.text
    loaded = sorted(name for name in sys.modules if name.startswith("opentelemetry"))
    print("LOADED", loaded)

asyncio.run(main())
"""


def test_a_request_with_tracing_off_imports_no_opentelemetry(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("LOADED"))
    assert "opentelemetry.sdk" not in line
    assert line == "LOADED []"  # not even the API
