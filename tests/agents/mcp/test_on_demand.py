"""The MCP SDK is loaded only when MCP is used: a gateway with no MCP servers configured
never imports it until someone calls /mcp, which then works at once (concurrent first
callers included). Observed with `PYTHONPROFILEIMPORTTIME`, which logs every import."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from tests.agents.mcp.test_mcp import mcp_client
from tests.support.servers import GatewayProcess, run_gateway

KEY = "acme-key-on-demand-123456"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    config = {"keys": [{"tenant": "acme", "key": KEY}]}
    env = {"PYTHONPROFILEIMPORTTIME": "1"}
    with run_gateway(tmp_path_factory.mktemp("mcp-on-demand"), config, env) as process:
        yield process


def _sdk_loaded(gateway: GatewayProcess) -> bool:
    return any(
        line.rsplit("|", 1)[-1].strip() in ("mcp", "mcp_types")
        for line in gateway.logs().splitlines()
        if line.startswith("import time:")
    )


async def _list(gateway: GatewayProcess) -> list[str]:
    async with mcp_client(gateway, KEY) as client:
        return [tool.name for tool in (await client.list_tools()).tools]


async def test_the_sdk_loads_on_the_first_mcp_call(gateway: GatewayProcess) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(base_url=gateway.base_url, headers=headers) as http:
        assert (await http.get("/api/tools")).status_code == 200
        rejected = await http.post("/mcp", json={}, headers={"Authorization": "Bearer wrong"})
        assert rejected.status_code == 401  # refused before the MCP layer: still not loaded
    assert "import time:" in gateway.logs()
    assert not _sdk_loaded(gateway)
    first = await asyncio.gather(*(_list(gateway) for _ in range(3)))
    assert all("calculator" in names for names in first)
    assert first[0] == first[1] == first[2]
    assert _sdk_loaded(gateway)
