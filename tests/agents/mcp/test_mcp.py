"""MCP both ways over real HTTP: a remote MCP server's tools imported for one tenant under
a prefix (with its auth header, under the same policies), and the gateway's registry
exported at /mcp, checked with the official MCP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.agents.mcp.remote import TOKEN, RemoteMcpApp
from tests.support.servers import GatewayProcess, ThreadedServer, run_gateway

ACME, ACME_READONLY, BETA = "acme-key-123456", "acme-ro-123456", "beta-key-123456"


@pytest.fixture(scope="module")
def remote() -> Iterator[ThreadedServer]:
    with ThreadedServer(RemoteMcpApp()) as server:
        yield server


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, remote: ThreadedServer
) -> Iterator[GatewayProcess]:
    config = {
        "keys": [
            {"tenant": "acme", "key": ACME, "name": "main"},
            {"tenant": "acme", "key": ACME_READONLY, "name": "readonly"},
            {"tenant": "beta", "key": BETA},
        ],
        "tools": {
            "tenants": {"beta": {"mode": "allow_list", "allow": ["calculator", "docs_*"]}},
            "keys": {"readonly": {"mode": "deny_list", "deny": ["docs_add"]}},
            "mcp_servers": {
                "acme": [
                    {
                        "name": "docs",
                        "url": f"{remote.base_url}/mcp",
                        "headers": {"Authorization": f"Bearer {TOKEN}"},
                    },
                    {"name": "down", "url": "http://127.0.0.1:9/mcp", "timeout_seconds": 2},
                ]
            },
        },
    }
    with run_gateway(tmp_path_factory.mktemp("mcp"), config) as process:
        yield process


@asynccontextmanager
async def mcp_client(gateway: GatewayProcess, key: str) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {key}"}
    async with create_mcp_http_client(headers=headers) as http:
        async with Client(
            streamable_http_client(f"{gateway.base_url}/mcp", http_client=http)
        ) as client:
            yield client


def _invoke(
    gateway: GatewayProcess, key: str, tool: str, arguments: dict[str, object]
) -> httpx.Response:
    return httpx.post(
        f"{gateway.base_url}/api/tools/{tool}/invoke",
        json=arguments,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


def _names(gateway: GatewayProcess, key: str) -> list[str]:
    response = httpx.get(
        f"{gateway.base_url}/api/tools", headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert response.status_code == 200, response.text
    return [tool["name"] for tool in response.json()["tools"]]


def test_imported_tools_join_the_tenant_registry_under_a_prefix(gateway: GatewayProcess) -> None:
    acme = _names(gateway, ACME)
    assert {"docs_search", "docs_add", "calculator"} <= set(acme)
    assert not any(name.startswith("down_") for name in acme)  # unreachable server: skipped
    assert "docs_add" not in _names(gateway, ACME_READONLY)  # the key's policy applies
    assert _names(gateway, BETA) == ["calculator"]  # another tenant never sees acme's imports
    assert "MCP server unavailable" in gateway.logs()
    assert TOKEN not in gateway.logs()


def test_imported_tools_run_on_the_remote_server(gateway: GatewayProcess) -> None:
    added = _invoke(gateway, ACME, "docs_add", {"a": 20, "b": 22})
    assert added.status_code == 200 and added.json()["output"] == {"sum": 42}
    found = _invoke(gateway, ACME, "docs_search", {"query": "billing"})
    assert found.json()["output"] == "Docs about billing: see chapter 3."
    failed = _invoke(gateway, ACME, "docs_search", {"query": "fail"})
    assert failed.status_code == 400 and "offline" in failed.json()["error"]["message"]
    invalid = _invoke(gateway, ACME, "docs_add", {"a": "x", "b": 1})
    assert invalid.status_code == 422 and invalid.json()["error"]["param"] == "a"
    assert _invoke(gateway, ACME_READONLY, "docs_add", {"a": 1, "b": 1}).status_code == 403
    assert _invoke(gateway, BETA, "docs_add", {"a": 1, "b": 1}).status_code == 404


async def test_export_lists_and_calls_with_the_callers_policy(gateway: GatewayProcess) -> None:
    async with mcp_client(gateway, ACME) as client:
        listed = await client.list_tools()
        names = sorted(tool.name for tool in listed.tools)
        assert names == sorted(_names(gateway, ACME))
        calculator = next(tool for tool in listed.tools if tool.name == "calculator")
        assert calculator.input_schema["required"] == ["operation"]
        result = await client.call_tool("calculator", {"a": 5, "b": 3, "operation": "add"})
        assert not result.is_error and result.structured_content == {"result": 8}
        chained = await client.call_tool("docs_add", {"a": 1, "b": 2})  # imported, re-exported
        assert chained.structured_content == {"sum": 3}
        denied = await client.call_tool("python", {"code": "print(1)"})
        assert denied.is_error and "dangerous" in denied.content[0].text  # type: ignore[union-attr]
        invalid = await client.call_tool("calculator", {"operation": "add", "a": "x"})
        assert invalid.is_error
    async with mcp_client(gateway, BETA) as client:
        assert [tool.name for tool in (await client.list_tools()).tools] == ["calculator"]


def test_export_needs_a_valid_key(gateway: GatewayProcess) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    missing = httpx.post(f"{gateway.base_url}/mcp", json=body, headers=headers)
    wrong = httpx.post(
        f"{gateway.base_url}/mcp",
        json=body,
        headers={**headers, "Authorization": "Bearer nope-nope-nope"},
    )
    assert missing.status_code == 401 and wrong.status_code == 401
    assert missing.json()["error"]["code"] == "missing_api_key"
