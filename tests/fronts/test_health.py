"""`/healthz` (liveness and the provider list) and `/readyz`."""

from __future__ import annotations

import httpx

from tests.support.servers import GatewayProcess


def test_healthz_lists_providers(gateway: GatewayProcess) -> None:
    response = httpx.get(f"{gateway.base_url}/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {"name": "mock", "type": "MockProvider"} in body["providers"]


def test_readyz_is_ready(gateway: GatewayProcess) -> None:
    response = httpx.get(f"{gateway.base_url}/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


def test_health_needs_no_key_and_rejects_posts(gateway: GatewayProcess) -> None:
    assert httpx.post(f"{gateway.base_url}/healthz").status_code == 405
