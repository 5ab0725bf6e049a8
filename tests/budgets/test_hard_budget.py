"""A hard budget refuses a call that would exceed it before it is sent: 429 in each
front's own format, code `budget_exceeded`, the reset time and a Retry-After (a total
budget says it does not reset, and sends no Retry-After)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import anthropic
import httpx
import openai
import pytest

from tests.budgets.support import PRICED, config, new_key
from tests.support.metrics import metric
from tests.support.servers import GatewayProcess, run_gateway

DAILY = new_key()  # 20 tokens a day: any call asking for 100 output tokens is refused
TOTAL = new_key()  # a millionth of a dollar in total
ROOMY = new_key()  # plenty


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    keys = [
        {"tenant": "daily", "key": DAILY, "budget": {"max_tokens": 20, "period": "day"}},
        {"tenant": "total", "key": TOTAL, "budget": {"max_usd": 0.000001, "period": "total"}},
        {"tenant": "roomy", "key": ROOMY, "budget": {"max_usd": 100, "period": "month"}},
    ]
    with run_gateway(tmp_path_factory.mktemp("hard"), config(keys)) as process:
        yield process


def _seconds_to_midnight() -> float:
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - now).total_seconds()


def _tomorrow() -> str:
    return f"{(datetime.now(UTC) + timedelta(days=1)):%Y-%m-%d}T00:00:00Z"


def test_openai_sdk_gets_rate_limit_error_budget_exceeded(gateway: GatewayProcess) -> None:
    client = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=DAILY, max_retries=0)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(
            model=PRICED, max_tokens=100, messages=[{"role": "user", "content": "hello"}]
        )
    error = caught.value
    assert error.status_code == 429 and error.code == "budget_exceeded"
    assert isinstance(error.body, dict) and error.body["type"] == "rate_limit_error"
    assert _tomorrow() in error.message and "daily budget" in error.message
    retry_after = float(error.response.headers["retry-after"])
    assert abs(retry_after - _seconds_to_midnight()) < 5
    # refused before it was sent: no upstream call was made for this tenant
    assert metric(gateway.base_url, "relaygate_requests_total", tenant="daily") == 0


def test_openai_stream_is_refused_before_it_starts(gateway: GatewayProcess) -> None:
    client = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=DAILY, max_retries=0)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(
            model=PRICED, max_tokens=100, stream=True,
            messages=[{"role": "user", "content": "hello"}],
        )
    assert caught.value.code == "budget_exceeded"


def test_anthropic_sdk_gets_rate_limit_error(gateway: GatewayProcess) -> None:
    client = anthropic.Anthropic(base_url=gateway.base_url, api_key=DAILY, max_retries=0)
    with pytest.raises(anthropic.RateLimitError) as caught:
        client.messages.create(
            model=PRICED, max_tokens=100, messages=[{"role": "user", "content": "hello"}]
        )
    body = caught.value.body
    assert isinstance(body, dict) and body["error"]["type"] == "rate_limit_error"
    assert _tomorrow() in body["error"]["message"]
    assert caught.value.response.headers["retry-after"].isdigit()


def test_gemini_gets_resource_exhausted(gateway: GatewayProcess) -> None:
    reply = httpx.post(
        f"{gateway.base_url}/v1beta/models/{PRICED}:generateContent",
        headers={"x-goog-api-key": DAILY},
        json={"contents": [{"role": "user", "parts": [{"text": "hello"}]}],
              "generationConfig": {"maxOutputTokens": 100}},
    )
    assert reply.status_code == 429
    error = reply.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED" and error["code"] == 429
    assert "budget would be exceeded" in error["message"]
    assert reply.headers["retry-after"].isdigit()


def test_a_total_budget_says_it_does_not_reset(gateway: GatewayProcess) -> None:
    client = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=TOTAL, max_retries=0)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(
            model=PRICED, max_tokens=100, messages=[{"role": "user", "content": "hello"}]
        )
    assert caught.value.code == "budget_exceeded"
    assert "does not reset" in caught.value.message
    assert "retry-after" not in caught.value.response.headers


def test_a_call_within_budget_goes_through_with_the_remaining_header(
    gateway: GatewayProcess,
) -> None:
    client = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=ROOMY, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model=PRICED, max_tokens=100, messages=[{"role": "user", "content": "one two three"}]
    )
    reply = raw.parse()
    assert reply.choices[0].message.content == "one two three"
    remaining = raw.headers["x-relaygate-budget-remaining"]
    assert re.fullmatch(r"\d+\.\d{6}", remaining) and 99.99 < float(remaining) < 100
