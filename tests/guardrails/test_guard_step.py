"""The guard step's contract with the rest of the pipeline: no guard, no step and the byte
relay as it was; block-only input guards keep the relay (sniffed); masking translates;
hits reach the outcome; the admin preview, `relaygate guard test` and `config check`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from relaygate.app import model_call_steps
from relaygate.cli import main
from relaygate.guardrails.step import GuardStep
from relaygate.pipeline.outcome import Outcome
from tests.support.fake_openai import FakeOpenAI
from tests.support.in_process import in_process
from tests.support.servers import ThreadedServer

ADMIN = "admin-key-for-guardrails-0123"
KEY = "sk-guard-step-0123456789"


def _config(upstream: str, guards: dict[str, Any] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "providers": {"up": {"type": "openai", "base_url": f"{upstream}/v1", "api_key": "x"}},
        "models": [{"name": "gpt-4o", "provider": "up"}],
        "admin": {"key": ADMIN},
        "keys": [{"tenant": "acme", "key": KEY}],
        "storage": {"database_url": "sqlite+aiosqlite:///:memory:"},
        "ledger": {"enabled": False},
    }
    if guards:
        config["guardrails"] = guards
        config["guardrail_policy"] = {"default": list(guards)}
    return config


async def _relayed(upstream: str, guards: dict[str, Any] | None, text: str) -> tuple[
        httpx.Response, list[Outcome], Any]:
    async with in_process(_config(upstream, guards)) as gw:
        outcomes: list[Outcome] = []
        gw.gateway.sinks.add(outcomes.append)
        reply = await gw.client.post("/v1/chat/completions", headers={
            "Authorization": f"Bearer {KEY}"}, json={
            "model": "gpt-4o", "messages": [{"role": "user", "content": text}]})
        return reply, outcomes, gw.gateway


async def test_without_guards_the_step_list_and_the_relay_are_unchanged(
        tmp_path: Path) -> None:
    with ThreadedServer(FakeOpenAI().app) as up:
        reply, outcomes, gateway = await _relayed(up.base_url, None, "hi a@example.com")
        assert gateway.guardrails is None
        assert not any(isinstance(step, GuardStep) for step in model_call_steps(gateway))
        assert reply.status_code == 200 and outcomes[0].relayed
        assert outcomes[0].guard_hits is None


async def test_block_only_input_guards_keep_the_relay_and_masking_translates() -> None:
    with ThreadedServer(FakeOpenAI().app) as up:
        flag = {"pii": {"type": "pii", "action": "flag"}}
        reply, outcomes, _ = await _relayed(up.base_url, flag, "mail a@example.com")
        assert reply.status_code == 200 and outcomes[0].relayed  # sniffed, not translated
        hits = outcomes[0].guard_hits
        assert hits is not None and [(h.guard, h.action, h.entity) for h in hits] == [
            ("pii", "flag", "EMAIL")]
        reply, outcomes, _ = await _relayed(up.base_url, flag, "nothing personal")
        assert outcomes[0].relayed and outcomes[0].guard_hits is None
        mask = {"pii": {"type": "pii", "action": "mask"}}
        reply, outcomes, _ = await _relayed(up.base_url, mask, "mail a@example.com")
        assert reply.status_code == 200 and not outcomes[0].relayed


async def test_admin_preview_shows_what_a_policy_does() -> None:
    guards = {"pii": {"type": "pii", "action": "mask"},
              "keys": {"type": "secrets", "action": "block"}}
    with ThreadedServer(FakeOpenAI().app) as up:
        async with in_process(_config(up.base_url, guards)) as gw:
            path = "/admin/guardrails/test"
            assert (await gw.client.get(path, params={"text": "x"})).status_code == 401
            headers = {"Authorization": f"Bearer {ADMIN}"}
            shown = (await gw.client.get(path, headers=headers, params={
                "text": "mail a@example.com"})).json()
            assert shown["verdict"] == "masked" and shown["text"] == "mail <EMAIL_1>"
            blocked = (await gw.client.get(path, headers=headers, params={
                "text": "AKIAIOSFODNN7EXAMPLE"})).json()
            assert blocked["verdict"] == "blocked" and blocked["blocked_by"] == "keys"
            assert "AKIAIOSFODNN7EXAMPLE" not in json.dumps(blocked)
            bad = await gw.client.get(path, headers=headers, params={"text": "x", "guard": "no"})
            assert bad.status_code == 400 and "unknown guard" in bad.json()["error"]["message"]


def test_guard_test_and_config_check_on_the_command_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text("guardrails:\n  pii: {type: pii, action: mask}\n"
                    "guardrail_policy: {default: [pii]}\n")
    assert main(["guard", "test", "--config", str(path), "call +1 415 555 2671"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["text"] == "call <PHONE_1>" and out["hits"][0]["entity"] == "PHONE"
    cases = {
        "guardrails:\n  x: {type: nsfw}\n": "line 2: guardrails.x.type",
        "guardrails:\n  x: {type: regex, patterns: ['(open']}\n":
            "line 2: guardrails.x: Value error, patterns.0: not a valid regular expression",
        "guardrails:\n  x: {type: pii, entities: [DNA]}\n": "unknown entities ['DNA']",
        "guardrails: {}\nguardrail_policy:\n  default: [nope]\n":
            "line 3: guardrail_policy.default.0: unknown guard 'nope'",
        "guardrails:\n  x: {type: custom, function: 'no_such_module:f'}\n":
            "guardrails.x: cannot import 'no_such_module'",
    }
    for text, expected in cases.items():
        path.write_text(text)
        if "custom" in text:  # the file is valid; building its guards fails
            assert main(["config", "check", "--config", str(path)]) == 2
        else:
            with pytest.raises(SystemExit):
                main(["config", "check", "--config", str(path)])
        assert expected in capsys.readouterr().err, text

