"""Refusals in each front's own format, and the rate-limit headers on every response."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.limits.support import AUTH, KEY, chat, config, serve
from tests.support.metrics import metric


def test_requests_limit_refuses_with_openai_body_headers_and_retry_after(tmp_path: Path) -> None:
    with serve(config(tmp_path, key_limits={"rpm": 3})) as url, \
            httpx.Client(base_url=url, headers=AUTH) as client:
        passed = [chat(client) for _ in range(3)]
        refused = chat(client)
    assert [reply.status_code for reply in passed] == [200, 200, 200]
    assert [reply.headers["x-ratelimit-remaining-requests"] for reply in passed] == ["2", "1", "0"]
    assert passed[0].headers["x-ratelimit-limit-requests"] == "3"
    assert passed[0].headers["x-ratelimit-reset-requests"].endswith("s")
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["type"] == "requests" and error["code"] == "rate_limit_exceeded"
    assert "requests per minute" in error["message"]
    # the window is a minute: the first request's slot comes back in just under 60 s
    assert 55 <= float(refused.headers["retry-after-ms"]) / 1000 <= 60.2
    assert refused.headers["retry-after"] in ("60", "61")  # whole seconds, rounded up
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"


def test_anthropic_and_gemini_fronts_refuse_in_their_own_format(tmp_path: Path) -> None:
    with serve(config(tmp_path, key_limits={"rpm": 1, "tpm": 100_000})) as url, \
            httpx.Client(base_url=url, headers={"x-api-key": KEY}) as client:
        body = {"model": "mock", "max_tokens": 50,
                "messages": [{"role": "user", "content": "hello"}]}
        passed = client.post("/v1/messages", json=body)
        refused = client.post("/v1/messages", json=body)
        gemini = client.post("/v1beta/models/mock:generateContent",
                             json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    assert passed.status_code == 200
    assert passed.headers["anthropic-ratelimit-requests-limit"] == "1"
    assert passed.headers["anthropic-ratelimit-requests-remaining"] == "0"
    reset = datetime.fromisoformat(passed.headers["anthropic-ratelimit-requests-reset"])
    assert 50 < (reset - datetime.now(UTC)).total_seconds() <= 61
    assert passed.headers["anthropic-ratelimit-tokens-limit"] == "100000"
    assert "x-ratelimit-limit-requests" not in passed.headers
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert refused.headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert "retry-after" in refused.headers
    assert gemini.status_code == 429
    assert gemini.json()["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_tokens_limit_refuses_with_type_tokens(tmp_path: Path) -> None:
    with serve(config(tmp_path, key_limits={"tpm": 300})) as url, \
            httpx.Client(base_url=url, headers=AUTH) as client:
        first = chat(client, max_tokens=100)
        second = chat(client, max_tokens=260)  # passes only if the first was settled
        third = chat(client, max_tokens=250)
        too_large = chat(client, max_tokens=1000)
    assert first.status_code == 200
    assert first.headers["x-ratelimit-limit-tokens"] == "300"
    # each reservation (input + max_tokens) was settled to the real usage at once
    assert second.status_code == 200, second.text
    used = first.json()["usage"]["total_tokens"] + second.json()["usage"]["total_tokens"]
    assert third.status_code == 429, third.text
    assert third.json()["error"]["type"] == "tokens"
    assert f"used {used}," in third.json()["error"]["message"]
    assert too_large.status_code == 429
    assert "Request too large" in too_large.json()["error"]["message"]
    assert "retry-after" not in too_large.headers  # waiting would not help


def test_limits_of_the_model_and_the_default_apply_to_every_key(tmp_path: Path) -> None:
    settings = config(tmp_path, limits={"default": {"rpm": 2}, "models": {"echo": {"rpm": 1}}})
    with serve(settings) as url, httpx.Client(base_url=url, headers=AUTH) as client:
        echo = [chat(client, model="echo").status_code for _ in range(2)]
        mock = [chat(client).status_code for _ in range(2)]
        rejected = metric(url, "relaygate_limit_rejections_total", owner_kind="model",
                          owner="model:echo", limit="rpm")
        usage = metric(url, "relaygate_limit_usage", owner_kind="key", limit="rpm")
    assert echo == [200, 429]  # the model's pool of one
    assert mock == [200, 429]  # the key's default of two: one went to echo
    assert rejected == 1
    assert usage == 2


def test_a_gateway_without_limits_has_no_limits_step(tmp_path: Path) -> None:
    settings = config(tmp_path)
    settings["keys"] = [{"tenant": "acme", "key": KEY}]
    with serve(settings) as url, httpx.Client(base_url=url, headers=AUTH) as client:
        reply = chat(client)
    assert reply.status_code == 200
    assert "x-ratelimit-limit-requests" not in reply.headers
