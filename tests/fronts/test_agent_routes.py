"""The agent fronts load on their first request: a relay never loads storage, and many
first requests arriving together all get their answer."""

from __future__ import annotations

import asyncio
import importlib
import inspect
from pathlib import Path

import httpx
from starlette.routing import Route, WebSocketRoute

from relaygate.fronts.agent_routes import Lazy, LazyAsgi, agent_routes
from tests.support.servers import GatewayProcess, run_gateway


def _storage_loaded(gateway: GatewayProcess) -> bool:
    """Whether the gateway process has SQLite's extension module mapped."""
    assert gateway.process is not None
    maps = Path(f"/proc/{gateway.process.pid}/maps").read_text()
    return "_sqlite3" in maps


async def _first_requests(base_url: str) -> list[int]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        calls = [
            client.post("/api/sessions", json={"model": "echo"}),
            client.post("/api/sessions", json={"model": "echo"}),
            client.get("/api/sessions"),
            client.get("/api/tools"),
            client.post("/api/tools/calculator/invoke", json={"a": 2, "b": 3, "operation": "add"}),
            client.post("/v1/responses", json={"model": "echo", "input": "hello"}),
            client.get("/v1/responses/resp_missing"),
            client.post(
                "/v1/agents/messages", json={"from_agent": "a", "to_agent": "b", "content": "hi"}
            ),
            client.get("/v1/agents/b/messages"),
            client.get("/health/ws"),
        ]
        return [reply.status_code for reply in await asyncio.gather(*calls)]


def test_agent_services_start_on_first_use_under_concurrency(tmp_path: Path) -> None:
    with run_gateway(tmp_path) as gateway:
        chat = httpx.post(
            f"{gateway.base_url}/v1/chat/completions",
            json={"model": "echo", "messages": [{"role": "user", "content": "relay only"}]},
        )
        assert chat.status_code == 200
        assert not _storage_loaded(gateway)  # chat completions alone never touch storage

        statuses = asyncio.run(_first_requests(gateway.base_url))
        assert statuses == [200, 200, 200, 200, 200, 200, 404, 201, 200, 200]
        assert _storage_loaded(gateway)
        assert "Traceback" not in gateway.logs()


def test_every_lazy_route_names_a_real_handler() -> None:
    """What each agent route will load is there: the module imports, and the name is its
    handler (an async function of one connection, or the MCP endpoint's ASGI app)."""
    checked = 0
    for route in agent_routes():
        assert isinstance(route, Route | WebSocketRoute)
        target = getattr(route.endpoint, "__self__", None)  # the Lazy of a bound `handle`
        if isinstance(route.app, LazyAsgi):
            target = route.app.target
        assert isinstance(target, Lazy), route
        function = getattr(importlib.import_module(target.module), target.name)
        if isinstance(route.app, LazyAsgi):
            assert callable(function)
        else:
            assert inspect.iscoroutinefunction(function), target
            assert len(inspect.signature(function).parameters) == 1, target
        checked += 1
    assert checked == len(agent_routes()) > 20
