"""A session's workspace goes with the session: removed from disk when the session is
deleted or expires (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.databases import BACKENDS, database_url
from tests.support.servers import run_gateway
from tests.support.sessions import ACME, create_session, history_of


@dataclass
class Gateway:
    client: httpx.Client
    workspaces: Path


@pytest.fixture(scope="module", params=BACKENDS)
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("session-workspaces")
    with database_url(request.param, tmp) as url:
        config = {
            "providers": {"mock": {"type": "mock"}},
            "models": [{"name": "mock", "provider": "mock"}],
            "keys": [{"tenant": "acme", "key": "key-acme"}],
            "storage": {"database_url": url},
            "sessions": {"sweep_interval_seconds": 0.2},
            "tools": {"workspace_root": str(tmp / "workspaces")},
        }
        with (
            run_gateway(tmp, config) as process,
            httpx.Client(base_url=process.base_url, headers=ACME, timeout=30) as client,
        ):
            yield Gateway(client, tmp / "workspaces")


def _session_with_a_file(gateway: Gateway, **body: object) -> Path:
    """A session whose model wrote the file `example` through the write_file tool."""
    session_id = create_session(gateway.client, tools=["write_file"], **body)
    reply = gateway.client.post(
        f"/api/sessions/{session_id}/messages", json={"message": "Please write_file now."}
    )
    assert reply.status_code == 200, reply.text
    tool_result = next(m for m in history_of(gateway.client, session_id) if m["role"] == "tool")
    assert "error" not in str(tool_result["content"]), tool_result
    workspace = gateway.workspaces / "acme" / session_id
    assert (workspace / "example").read_text() == "example"
    return workspace


def test_deleting_a_session_removes_its_workspace(gateway: Gateway) -> None:
    kept = _session_with_a_file(gateway)
    workspace = _session_with_a_file(gateway)
    deleted = gateway.client.delete(f"/api/sessions/{workspace.name}")
    assert deleted.status_code == 200, deleted.text
    assert not workspace.exists()
    assert (kept / "example").exists()  # another session's workspace stays
    assert gateway.client.get(f"/api/sessions/{workspace.name}").status_code == 404


def test_an_expired_session_loses_its_workspace(gateway: Gateway) -> None:
    kept = _session_with_a_file(gateway)
    workspace = _session_with_a_file(gateway, ttl_seconds=1)
    deadline = time.monotonic() + 10
    while workspace.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not workspace.exists()
    assert (kept / "example").exists()
    reply = gateway.client.get(f"/api/sessions/{workspace.name}")
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "session_expired"
