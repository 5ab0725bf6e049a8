"""Keys from the config map to tenants; a missing or wrong key is a 401 in OpenAI's shape;
with no keys the gateway runs open and says so at start-up."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.support.gateway_logs import log_records, request_record
from tests.support.servers import GatewayProcess, run_gateway

ACME_KEY = "rg-acme-0123456789abcdef"
GLOBEX_KEY = "rg-globex-fedcba9876543210"
BODY = {"model": "echo", "messages": [{"role": "user", "content": "who am i"}]}


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    config = {
        "keys": [
            {"tenant": "acme", "key": ACME_KEY, "name": "acme-ci"},
            {"tenant": "globex", "key_sha256": hashlib.sha256(GLOBEX_KEY.encode()).hexdigest()},
        ]
    }
    with run_gateway(tmp_path_factory.mktemp("auth"), config) as process:
        yield process


def _post(gateway: GatewayProcess, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{gateway.base_url}/v1/chat/completions", json=BODY, headers=headers, timeout=10
    )


@pytest.mark.parametrize(
    ("headers", "tenant"),
    [
        ({"Authorization": f"Bearer {ACME_KEY}"}, "acme"),
        ({"x-api-key": ACME_KEY}, "acme"),
        ({"Authorization": f"bearer {GLOBEX_KEY}"}, "globex"),  # scheme is case-insensitive
        ({"x-api-key": GLOBEX_KEY}, "globex"),
    ],
)
def test_keys_map_to_tenants(keyed: GatewayProcess, headers: dict[str, str], tenant: str) -> None:
    response = _post(keyed, **headers)
    assert response.status_code == 200
    record = request_record(keyed, response.headers["x-request-id"])
    assert record["tenant"] == tenant


def test_missing_key_is_401(keyed: GatewayProcess) -> None:
    response = _post(keyed)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "authentication_error"
    assert error["code"] == "missing_api_key"
    assert "Authorization: Bearer" in error["message"]
    assert error["param"] is None


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer rg-not-a-real-key-9999"},
        {"x-api-key": "rg-not-a-real-key-9999"},
        {"Authorization": f"Basic {ACME_KEY}"},  # only Bearer counts
    ],
)
def test_wrong_key_is_401(keyed: GatewayProcess, headers: dict[str, str]) -> None:
    response = _post(keyed, **headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "authentication_error"
    assert "rg-not-a-real-key" not in error["message"]  # only a hint of the last characters


def test_models_list_needs_a_key_too(keyed: GatewayProcess) -> None:
    assert httpx.get(f"{keyed.base_url}/v1/models").status_code == 401
    response = httpx.get(f"{keyed.base_url}/v1/models", headers={"x-api-key": ACME_KEY})
    assert response.status_code == 200


def test_sdk_raises_authentication_error(keyed: GatewayProcess) -> None:
    client = openai.OpenAI(base_url=f"{keyed.base_url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(**BODY)  # type: ignore[call-overload]
    assert caught.value.code == "invalid_api_key"
    good = openai.OpenAI(base_url=f"{keyed.base_url}/v1", api_key=ACME_KEY, max_retries=0)
    assert good.chat.completions.create(**BODY).choices[0].message.content == "who am i"  # type: ignore[call-overload]


def test_keyed_gateway_does_not_warn_about_being_open(keyed: GatewayProcess) -> None:
    assert not any("NO API KEYS" in str(record.get("event")) for record in log_records(keyed))


def test_open_gateway_says_so_loudly_and_serves_tenant_default(gateway: GatewayProcess) -> None:
    warnings = [
        record
        for record in log_records(gateway)
        if record.get("level") == "warning" and "NO API KEYS CONFIGURED" in record["event"]
    ]
    assert len(warnings) == 1
    assert "OPEN" in warnings[0]["event"]
    response = _post(gateway)  # no key at all
    assert response.status_code == 200
    assert request_record(gateway, response.headers["x-request-id"])["tenant"] == "default"
