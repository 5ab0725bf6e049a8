"""X-Request-ID on every response, one JSON log line per request, no secret in the log."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.gateway_logs import log_records, request_record
from tests.support.servers import GatewayProcess, ThreadedServer, run_gateway

TENANT_KEY = "rg-live-tenant-key-0123456789"
UPSTREAM_KEY = "sk-upstream-key-abcdefghijkl"


@pytest.fixture(scope="module")
def upstream() -> Iterator[ThreadedServer]:
    with ThreadedServer(FakeOpenAI().app) as server:
        yield server


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, upstream: ThreadedServer
) -> Iterator[GatewayProcess]:
    config = {
        "providers": {
            "mock": {"type": "mock"},
            "up": {
                "type": "openai",
                "base_url": f"{upstream.base_url}/v1",
                "api_key": "${UPSTREAM_SECRET}",
            },
        },
        "models": [{"name": "mock", "provider": "mock"}, {"name": "echo", "provider": "mock"}],
        "keys": [{"tenant": "acme", "key": TENANT_KEY, "name": "ci"}],
    }
    env = {"UPSTREAM_SECRET": UPSTREAM_KEY}
    with run_gateway(tmp_path_factory.mktemp("request-log"), config, env) as process:
        yield process


AUTH = {"Authorization": f"Bearer {TENANT_KEY}"}


def _chat(gateway: GatewayProcess, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(
        f"{gateway.base_url}/v1/chat/completions", json=body, headers=headers, timeout=10
    )


def _body(model: str = "echo", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "three small words"}], **extra}


def test_client_request_id_is_echoed_and_logged(gateway: GatewayProcess) -> None:
    mine = f"trace-{uuid.uuid4()}"
    response = _chat(gateway, _body(), **AUTH, **{"X-Request-ID": mine})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == mine
    record = request_record(gateway, mine)
    assert record["status"] == 200
    assert record["tenant"] == "acme"
    assert record["model"] == "echo"
    assert record["provider"] == "mock"
    assert record["output_tokens"] == 3 and record["input_tokens"] > 3
    assert record["path"] == "/v1/chat/completions" and record["method"] == "POST"
    assert 0 < record["latency_ms"] < 5000
    assert record["level"] == "info" and record["timestamp"].endswith("Z")


def test_new_request_ids_are_unique(gateway: GatewayProcess) -> None:
    ids = {_chat(gateway, _body(), **AUTH).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5
    assert all(value.startswith("req_") for value in ids)


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (_body(), {}, 401),
        (_body(model="nope"), AUTH, 404),
        ({"model": "echo"}, AUTH, 400),
        (_body(model="up:fail-500"), AUTH, 502),
    ],
)
def test_errors_carry_the_request_id_and_are_logged(
    gateway: GatewayProcess, body: dict[str, Any], headers: dict[str, str], status: int
) -> None:
    response = _chat(gateway, body, **headers)
    assert response.status_code == status
    request_id = response.headers["x-request-id"]
    record = request_record(gateway, request_id)
    assert record["status"] == status
    assert record["error"]


@pytest.mark.parametrize("model", ["echo", "up:gpt-4o"])
def test_streams_carry_the_request_id_and_log_usage(gateway: GatewayProcess, model: str) -> None:
    body = _body(model=model, stream=True)
    with httpx.stream(
        "POST", f"{gateway.base_url}/v1/chat/completions", json=body, headers=AUTH, timeout=10
    ) as response:
        request_id = response.headers["x-request-id"]
        frames = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert frames[-1] == "data: [DONE]"
    record = request_record(gateway, request_id)
    assert record["status"] == 200
    assert record["output_tokens"] == 3
    assert record["fast_path"] is (model != "echo")


def test_client_disconnect_is_still_logged(gateway: GatewayProcess) -> None:
    body = _body(model="up:slow-stream", stream=True)
    with httpx.stream(
        "POST", f"{gateway.base_url}/v1/chat/completions", json=body, headers=AUTH, timeout=10
    ) as response:
        request_id = response.headers["x-request-id"]
        for _ in response.iter_lines():
            break
    record = request_record(gateway, request_id)
    assert record["status"] == 200
    assert record["error"] == "client_disconnected"


def test_sdk_sees_request_ids(gateway: GatewayProcess) -> None:
    client = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=TENANT_KEY, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="mock", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-request-id"].startswith("req_")


def test_health_responses_carry_request_ids(gateway: GatewayProcess) -> None:
    for path in ("/healthz", "/readyz", "/nowhere"):
        assert httpx.get(f"{gateway.base_url}{path}").headers["x-request-id"]


def test_no_secret_is_ever_logged(gateway: GatewayProcess) -> None:
    # a wrong key, an upstream call with the upstream key, a stream: all logged by now
    _chat(gateway, _body(), Authorization="Bearer rg-wrong-key-but-secret-too")
    _chat(gateway, _body(model="up:gpt-4o"), **{"x-api-key": TENANT_KEY})
    time.sleep(0.2)
    text = gateway.logs()
    assert len(log_records(gateway)) > 10
    for secret in (TENANT_KEY, UPSTREAM_KEY, "rg-wrong-key-but-secret-too", "Bearer "):
        assert secret not in text
    assert TENANT_KEY[-12:] not in text and UPSTREAM_KEY[-12:] not in text
    assert "authorization" not in text.lower()
