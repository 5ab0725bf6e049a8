"""Virtual keys through the admin API, used by the official SDKs on a real gateway."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.support.servers import GatewayProcess, run_gateway

ADMIN_KEY = "admin-key-for-tests-0123456789"
YAML_KEY = "sk-yaml-key-for-tests"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    config = {
        "admin": {"key": ADMIN_KEY},
        "keys": [{"key": YAML_KEY, "tenant": "yaml-team", "name": "from-yaml"}],
    }
    with run_gateway(tmp_path_factory.mktemp("admin"), config) as process:
        yield process


@pytest.fixture
def admin(gateway: GatewayProcess) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=gateway.base_url, headers=headers, timeout=10) as client:
        yield client


def _tenant(admin: httpx.Client, **fields: Any) -> str:
    name = f"team-{time.monotonic_ns()}"
    response = admin.post("/admin/tenants", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    return name


def _key(admin: httpx.Client, tenant: str, **fields: Any) -> dict[str, Any]:
    response = admin.post("/admin/keys", json={"tenant": tenant, **fields})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _openai(gateway: GatewayProcess, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=key, max_retries=0)


def _chat(gateway: GatewayProcess, key: str, model: str = "mock") -> str:
    reply = _openai(gateway, key).chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hello"}]
    )
    return reply.choices[0].message.content or ""


def test_a_created_key_works_with_both_sdks_and_its_secret_is_shown_once(
    gateway: GatewayProcess, admin: httpx.Client
) -> None:
    created = _key(admin, _tenant(admin), name="ci")
    secret = created["key"]
    assert secret.startswith("rg-") and created["prefix"] == secret[:8]
    assert _chat(gateway, secret)
    message = anthropic.Anthropic(base_url=gateway.base_url, api_key=secret, max_retries=0)
    reply = message.messages.create(
        model="mock", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.content
    shown = admin.get(f"/admin/keys/{created['id']}").json()
    assert "key" not in shown and shown["status"] == "active" and shown["prefix"] == secret[:8]
    listed = admin.get("/admin/keys", params={"tenant": created["tenant"]}).json()
    assert [key["id"] for key in listed["data"]] == [created["id"]]
    assert all("key" not in key for key in listed["data"])


def test_keys_are_stored_hashed(gateway: GatewayProcess, admin: httpx.Client) -> None:
    secret = _key(admin, _tenant(admin))["key"]
    database = Path(gateway.config_path.parent / "relaygate.db")
    stored = b"".join(path.read_bytes() for path in database.parent.glob("relaygate.db*"))
    assert secret.encode() not in stored
    assert hashlib.sha256(secret.encode()).hexdigest().encode() in stored


def test_yaml_keys_keep_working_beside_database_keys(gateway: GatewayProcess) -> None:
    assert _chat(gateway, YAML_KEY)
    with pytest.raises(openai.AuthenticationError):
        _chat(gateway, "rg-not-a-key-at-all-000000000000")


def test_a_model_scope_holds_on_every_front_and_in_the_model_list(
    gateway: GatewayProcess, admin: httpx.Client
) -> None:
    secret = _key(admin, _tenant(admin), models=["mock"])["key"]
    assert _chat(gateway, secret, "mock")
    with pytest.raises(openai.PermissionDeniedError) as refused:
        _chat(gateway, secret, "echo")
    assert refused.value.code == "model_not_allowed"
    client = anthropic.Anthropic(base_url=gateway.base_url, api_key=secret, max_retries=0)
    with pytest.raises(anthropic.PermissionDeniedError):
        client.messages.create(model="echo", max_tokens=5,
                               messages=[{"role": "user", "content": "hi"}])
    gemini = httpx.post(
        f"{gateway.base_url}/v1beta/models/echo:generateContent",
        headers={"x-goog-api-key": secret},
        json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
    )
    assert gemini.status_code == 403 and gemini.json()["error"]["status"] == "PERMISSION_DENIED"
    assert [model.id for model in _openai(gateway, secret).models.list()] == ["mock"]
    bearer = {"Authorization": f"Bearer {secret}"}
    refused_session = httpx.post(f"{gateway.base_url}/api/sessions", json={"model": "echo"},
                                 headers=bearer)
    assert refused_session.status_code == 403
    session = httpx.post(f"{gateway.base_url}/api/sessions",
                         json={"model": "mock", "allowed_models": ["echo"]}, headers=bearer)
    assert session.status_code == 200
    turn = httpx.post(f"{gateway.base_url}/api/sessions/{session.json()['id']}/messages",
                      json={"message": "hi", "model": "echo"}, headers=bearer)
    assert turn.status_code == 403 and turn.json()["error"]["code"] == "model_not_allowed"


def test_an_endpoint_scope_refuses_other_apis(gateway: GatewayProcess, admin: httpx.Client) -> None:
    secret = _key(admin, _tenant(admin), endpoints=["chat"])["key"]
    assert _chat(gateway, secret)
    client = anthropic.Anthropic(base_url=gateway.base_url, api_key=secret, max_retries=0)
    with pytest.raises(anthropic.PermissionDeniedError) as refused:
        client.messages.create(model="mock", max_tokens=5,
                               messages=[{"role": "user", "content": "hi"}])
    assert "may not use the 'messages' API" in str(refused.value.body)


def test_revoked_and_expired_keys_get_401(gateway: GatewayProcess, admin: httpx.Client) -> None:
    tenant = _tenant(admin)
    revoked = _key(admin, tenant)
    assert _chat(gateway, revoked["key"])
    assert admin.delete(f"/admin/keys/{revoked['id']}").json()["status"] == "revoked"
    with pytest.raises(openai.AuthenticationError) as refused:
        _chat(gateway, revoked["key"])
    assert refused.value.code == "revoked_api_key"
    expiring = _key(admin, tenant, expires_at=int(time.time()) + 2)
    assert _chat(gateway, expiring["key"])
    time.sleep(max(0.0, expiring["expires_at"] - time.time()) + 0.1)
    with pytest.raises(openai.AuthenticationError) as expired:
        _chat(gateway, expiring["key"])
    assert expired.value.code == "expired_api_key"


def test_rotation_keeps_the_old_secret_for_the_grace_period(
    gateway: GatewayProcess, admin: httpx.Client
) -> None:
    created = _key(admin, _tenant(admin))
    rotated = admin.post(f"/admin/keys/{created['id']}/rotate", json={"grace_seconds": 60})
    assert rotated.status_code == 200
    new_secret = rotated.json()["key"]
    assert new_secret != created["key"]
    assert _chat(gateway, new_secret) and _chat(gateway, created["key"])
    again = admin.post(f"/admin/keys/{created['id']}/rotate", json={"grace_seconds": 0}).json()
    assert _chat(gateway, again["key"])
    for old in (created["key"], new_secret):
        with pytest.raises(openai.AuthenticationError):
            _chat(gateway, old)


def test_a_change_takes_effect_at_once_and_a_tenant_narrows_its_keys(
    gateway: GatewayProcess, admin: httpx.Client
) -> None:
    tenant = _tenant(admin)
    created = _key(admin, tenant)
    assert _chat(gateway, created["key"], "echo")
    admin.patch(f"/admin/keys/{created['id']}", json={"models": ["mock"]}).raise_for_status()
    with pytest.raises(openai.PermissionDeniedError):
        _chat(gateway, created["key"], "echo")
    admin.patch(f"/admin/keys/{created['id']}", json={"models": None}).raise_for_status()
    assert _chat(gateway, created["key"], "echo")
    admin.patch(f"/admin/tenants/{tenant}", json={"models": ["mock"]}).raise_for_status()
    with pytest.raises(openai.PermissionDeniedError):
        _chat(gateway, created["key"], "echo")
    wider = admin.post("/admin/keys", json={"tenant": tenant, "models": ["echo"]})
    assert wider.status_code == 400 and wider.json()["error"]["param"] == "models"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"colour": "red"}, "colour"),
        ({"budget": {"max_usd": -5}}, "budget.max_usd"),
        ({"budget": {"max_usd": 5, "period": "fortnight"}}, "budget.period"),
        ({"limits": {"rpm": 0}}, "limits.rpm"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"endpoints": ["chat", "faxes"]}, "endpoints"),
        ({"tenant": "no-such-tenant"}, "tenant"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_creates_nothing(
    admin: httpx.Client, body: dict[str, Any], param: str
) -> None:
    tenant = _tenant(admin)
    response = admin.post("/admin/keys", json={"tenant": tenant, **body})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"
    assert admin.get("/admin/keys", params={"tenant": tenant}).json()["data"] == []


def test_the_admin_api_without_or_with_a_wrong_admin_key_is_401_and_changes_nothing(
    gateway: GatewayProcess, admin: httpx.Client
) -> None:
    tenant = _tenant(admin)
    for headers in ({}, {"Authorization": "Bearer wrong-admin-key-000000"},
                    {"Authorization": f"Bearer {YAML_KEY}"}):
        response = httpx.post(f"{gateway.base_url}/admin/keys", json={"tenant": tenant},
                              headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authentication_error"
    assert admin.get("/admin/keys", params={"tenant": tenant}).json()["data"] == []


def test_without_an_admin_key_the_admin_api_is_off_and_says_so(tmp_path: Path) -> None:
    with run_gateway(tmp_path) as process:
        response = httpx.get(f"{process.base_url}/admin/keys")
    assert response.status_code == 404
    assert "admin API is off" in response.json()["error"]["message"]


def test_a_tenant_budget_set_through_the_admin_api_caps_all_its_keys_and_shows_its_spend(
    gateway: GatewayProcess, admin: httpx.Client
) -> None:
    tenant = _tenant(admin, budget={"max_tokens": 300, "period": "day"})
    first = _key(admin, tenant, budget={"max_tokens": 10_000})
    second = _key(admin, tenant)
    served = 0
    with pytest.raises(openai.RateLimitError) as refused:
        for _ in range(50):
            for secret in (first["key"], second["key"]):
                _openai(gateway, secret).chat.completions.create(
                    model="mock", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
                )
                served += 1
    assert refused.value.code == "budget_exceeded" and 2 <= served < 50
    key_spend = admin.get(f"/admin/keys/{first['id']}").json()["spend"]
    tenant_spend = admin.get(f"/admin/tenants/{tenant}").json()["spend"]
    assert 0 < key_spend["tokens"] < tenant_spend["tokens"] <= 300
    assert tenant_spend["period_end"] > time.time()
