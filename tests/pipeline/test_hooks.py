"""Hooks from the YAML, on a real gateway, through the official SDKs: an auth hook names
the tenant or refuses, a before_request hook refuses (in each front's own error format)
or changes the call, after_response / on_error hooks see every outcome, and a hook that
raises gives a clear 500 with the request id, never a traceback or what it raised."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.support.gateway_logs import log_records
from tests.support.servers import GatewayProcess, run_gateway

ROOT = Path(__file__).resolve().parents[2]
YAML_KEY = "sk-yaml-key-for-beta"
HOOKS = [
    {"on": "auth", "call": "tests.support.hooks:resolve_key"},
    {"on": "before_request", "call": "tests.support.hooks:check"},
    {"on": "after_response", "call": "tests.support.hooks:record"},
    {"on": "on_error", "call": "tests.support.hooks:alert"},
]


@pytest.fixture(scope="module")
def hook_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hook-log") / "outcomes.jsonl"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, hook_log: Path) -> Iterator[GatewayProcess]:
    config = {
        "providers": {"mock": {"type": "mock"}},
        "models": [{"name": "echo", "provider": "mock"}, {"name": "mock", "provider": "mock"}],
        "keys": [{"tenant": "beta", "key": YAML_KEY}],
        "hooks": HOOKS,
    }
    env = {"RELAYGATE_TEST_HOOK_LOG": str(hook_log),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with run_gateway(tmp_path_factory.mktemp("hooks"), config, env) as process:
        yield process


def _openai(gateway: GatewayProcess, key: str = "hook-acme") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=key, max_retries=0)


def _anthropic(gateway: GatewayProcess, key: str = "hook-acme") -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.base_url, api_key=key, max_retries=0)


def _hook_lines(hook_log: Path, request_id: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    while True:
        lines = [json.loads(line) for line in hook_log.read_text().splitlines()] \
            if hook_log.exists() else []
        found = [line for line in lines if line["request_id"] == request_id]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_auth_hook_names_the_tenant_and_the_yaml_keys_still_work(
    gateway: GatewayProcess, hook_log: Path
) -> None:
    reply = _openai(gateway).chat.completions.with_raw_response.create(
        model="echo", messages=[{"role": "user", "content": "who am I"}]
    )
    request_id = reply.headers["x-request-id"]
    [seen] = _hook_lines(hook_log, request_id)
    assert seen["hook"] == "after_response" and seen["tenant"] == "acme"
    assert seen["provider"] == "mock" and seen["status"] == 200 and seen["output_tokens"] > 0
    beta = _openai(gateway, YAML_KEY).chat.completions.with_raw_response.create(
        model="echo", messages=[{"role": "user", "content": "and me"}]
    )
    assert _hook_lines(hook_log, beta.headers["x-request-id"])[0]["tenant"] == "beta"
    with pytest.raises(openai.AuthenticationError):
        _openai(gateway, "sk-nobody").models.list()


def test_auth_hook_refusal_is_the_fronts_own_401(gateway: GatewayProcess) -> None:
    with pytest.raises(openai.AuthenticationError) as refused:
        _openai(gateway, "hook-refused").chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "hi"}]
        )
    assert "refused by the deployment's hook" in str(refused.value)
    with pytest.raises(anthropic.AuthenticationError):
        _anthropic(gateway, "hook-refused").messages.create(
            model="echo", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
        )


def test_before_request_refusal_arrives_as_each_sdks_bad_request(gateway: GatewayProcess) -> None:
    prompt = [{"role": "user", "content": "tell me about forbidden things"}]
    with pytest.raises(openai.BadRequestError) as chat:
        _openai(gateway).chat.completions.create(model="echo", messages=prompt)  # type: ignore[arg-type]
    assert chat.value.code == "policy_refusal"
    assert "refused by policy" in chat.value.message
    with pytest.raises(openai.BadRequestError):  # streamed: refused before the first byte
        _openai(gateway).chat.completions.create(model="echo", messages=prompt, stream=True)  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError) as responses:
        _openai(gateway).responses.create(model="echo", input="forbidden again")
    assert responses.value.code == "policy_refusal"
    with pytest.raises(anthropic.BadRequestError) as messages:
        _anthropic(gateway).messages.create(
            model="echo", max_tokens=20, messages=[{"role": "user", "content": "forbidden"}]
        )
    assert messages.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    gemini = httpx.post(
        f"{gateway.base_url}/v1beta/models/echo:generateContent",
        headers={"Authorization": "Bearer hook-acme"},
        json={"contents": [{"role": "user", "parts": [{"text": "forbidden"}]}]},
    )
    assert gemini.status_code == 400 and gemini.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_before_request_hook_runs_for_session_turns(gateway: GatewayProcess) -> None:
    headers = {"Authorization": "Bearer hook-acme"}
    session = httpx.post(f"{gateway.base_url}/api/sessions", headers=headers,
                         json={"model": "echo"}).json()
    reply = httpx.post(f"{gateway.base_url}/api/sessions/{session['id']}/messages",
                       headers=headers, json={"message": "something forbidden"})
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "policy_refusal"
    history = httpx.get(f"{gateway.base_url}/api/sessions/{session['id']}/messages",
                        headers=headers).json()
    assert history["data"] == []  # nothing half-written


def test_before_request_hook_may_change_the_call(gateway: GatewayProcess) -> None:
    reply = _openai(gateway).chat.completions.with_raw_response.create(
        model="hooked", messages=[{"role": "user", "content": "repeat me"}]
    )
    assert reply.headers["x-relaygate-served-by"] == "mock/echo"
    assert reply.parse().choices[0].message.content == "repeat me"


def test_a_hook_that_raises_is_a_clear_500_and_is_logged_by_name(
    gateway: GatewayProcess,
) -> None:
    with pytest.raises(openai.InternalServerError) as failed:
        _openai(gateway).chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "please explode"}]
        )
    request_id = failed.value.response.headers["x-request-id"]
    assert request_id in failed.value.message
    assert "Traceback" not in failed.value.response.text
    assert "sk-hook-secret" not in failed.value.response.text
    time.sleep(0.2)
    logs = gateway.logs()
    assert "sk-hook-secret" not in logs  # what a hook raised is not logged: it may hold secrets
    failures = [record for record in log_records(gateway) if record.get("event") == "hook failed"]
    assert any(record["hook"] == "tests.support.hooks:check"
               and record["request_id"] == request_id for record in failures)


def test_on_error_hook_sees_failed_upstream_calls(
    tmp_path: Path, hook_log: Path
) -> None:
    config = {
        "providers": {"down": {"type": "openai", "base_url": "http://127.0.0.1:9/v1",
                               "timeout": {"connect": 1, "read": 1}}},
        "models": [{"name": "down", "provider": "down"}],
        "hooks": HOOKS[2:],
    }
    env = {"RELAYGATE_TEST_HOOK_LOG": str(hook_log),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with run_gateway(tmp_path, config, env) as gateway:
        reply = httpx.post(f"{gateway.base_url}/v1/chat/completions",
                           json={"model": "down", "messages": [{"role": "user", "content": "x"}]})
        assert reply.status_code in (502, 503)
        lines = _hook_lines(hook_log, reply.headers["x-request-id"])
    assert sorted(line["hook"] for line in lines) == ["after_response", "on_error"]
    assert all(line["status"] == reply.status_code and line["error"] for line in lines)


def test_config_check_names_a_hook_that_cannot_be_loaded(tmp_path: Path) -> None:
    config = tmp_path / "relaygate.yaml"
    config.write_text(
        "hooks:\n"
        "  - {on: before_request, call: 'tests.support.hooks:check'}\n"
        "  - {on: after_response, call: 'tests.support.no_such_module:record'}\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "relaygate", "config", "check", "--config", str(config)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert run.returncode == 2
    assert "tests.support.no_such_module:record" in run.stderr
    assert "Traceback" not in run.stderr
    config.write_text("hooks:\n  - {on: before_request, call: 'tests.support.hooks:check'}\n")
    run = subprocess.run(
        [sys.executable, "-m", "relaygate", "config", "check", "--config", str(config)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "hook before_request: tests.support.hooks:check" in run.stdout
