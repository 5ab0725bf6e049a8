"""The Prometheus set after a scripted run, scraped from /metrics of a gateway on a real port:
per-deployment errors by class, latency and time-to-first-token histograms, output speed,
tokens and cost, limit and budget rejections, in-flight calls and queue depths."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from relaygate.store.schema import upgrade
from tests.support.faulty_upstream import Fault, FaultyUpstream
from tests.support.metrics import metric
from tests.support.routing_gateway import HELLO, in_process_gateway
from tests.support.servers import ThreadedServer

LIMITED = "sk-metrics-limited-0123456789"
BROKE = "sk-metrics-budget-0123456789"
OPEN = "sk-metrics-open-0123456789"


@pytest.fixture
def faulty() -> Iterator[tuple[FaultyUpstream, ThreadedServer]]:
    upstream = FaultyUpstream()
    with ThreadedServer(upstream.app) as server:
        yield upstream, server


def test_a_scripted_run_shows_in_every_metric(
    tmp_path: Path, faulty: tuple[FaultyUpstream, ThreadedServer]
) -> None:
    upstream, server = faulty
    upstream.faults["bad"] = Fault("500")
    url = f"sqlite+aiosqlite:///{tmp_path / 'relaygate.db'}"
    asyncio.run(upgrade(url))
    config = {
        "storage": {"database_url": url},
        "providers": {"mock": {"type": "mock"},
                      "bad": {"type": "openai", "base_url": upstream.base_url(server, "bad"),
                              "api_key": "sk-test"}},
        "models": [{"name": "priced", "provider": "mock", "model": "mock",
                    "input_price_per_mtok": 2.0, "output_price_per_mtok": 8.0},
                   {"name": "broken", "provider": "bad", "model": "m"}],
        "keys": [{"tenant": "acme", "key": OPEN},
                 {"tenant": "acme", "key": LIMITED, "name": "limited", "limits": {"rpm": 1}},
                 {"tenant": "acme", "key": BROKE, "name": "broke",
                  "budget": {"max_tokens": 1}}],
    }
    with in_process_gateway(tmp_path, config) as gateway:
        base = gateway.base_url

        def sdk(key: str) -> openai.OpenAI:
            return openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0)

        for _ in range(2):
            sdk(OPEN).chat.completions.create(model="priced", messages=HELLO)
        stream = sdk(OPEN).chat.completions.create(model="priced", messages=HELLO, stream=True)
        assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        with pytest.raises(openai.InternalServerError):
            sdk(OPEN).chat.completions.create(model="broken", messages=HELLO)
        sdk(LIMITED).chat.completions.create(model="priced", messages=HELLO)
        with pytest.raises(openai.RateLimitError):
            sdk(LIMITED).chat.completions.create(model="priced", messages=HELLO)
        with pytest.raises(openai.RateLimitError) as refused:
            sdk(BROKE).chat.completions.create(model="priced", messages=HELLO)
        assert refused.value.code == "budget_exceeded"

        deployment = {"model": "priced", "deployment": "priced"}  # a model entry is its own group
        assert metric(base, "relaygate_errors_total", model="broken", deployment="broken",
                      **{"class": "bad_gateway"}) == 1
        assert metric(base, "relaygate_upstream_seconds_count", **deployment) == 4
        assert metric(base, "relaygate_time_to_first_token_seconds_count", **deployment) == 1
        assert metric(base, "relaygate_time_to_first_token_seconds_bucket", le="+Inf",
                      **deployment) == 1
        assert metric(base, "relaygate_output_tokens_per_second_count", **deployment) == 4
        assert metric(base, "relaygate_cost_usd_total", model="priced", tenant="acme") > 0
        assert metric(base, "relaygate_tokens_total", model="priced", direction="output") > 0
        assert metric(base, "relaygate_limit_rejections_total", limit="rpm") == 1
        assert metric(base, "relaygate_budget_rejections_total", owner_kind="key") == 1
        assert metric(base, "relaygate_in_flight_calls") == 0
        assert metric(base, "relaygate_turn_pool_queue_depth") == 0
        assert metric(base, "relaygate_background_runs_running") == 0
        assert metric(base, "relaygate_ledger_rows_queued") >= 0
        text = httpx.get(f"{base}/metrics").text
        for name in ("relaygate_cache_hits_total", "relaygate_guardrail_hits_total",
                     "relaygate_background_runs_total", "relaygate_requests_total"):
            assert f"# TYPE {name} counter" in text, name


def test_in_flight_calls_cache_and_guard_hits_and_background_runs_by_state(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'relaygate.db'}"
    asyncio.run(upgrade(url))
    config = {
        "storage": {"database_url": url}, "ledger": {"enabled": False},
        "providers": {"mock": {"type": "mock"},
                      "slow": {"type": "mock", "stream_delay_ms": 60}},
        "models": [{"name": "mock", "provider": "mock"},
                   {"name": "slow", "provider": "slow", "model": "mock"}],
        "keys": [{"tenant": "acme", "key": OPEN}],
        "cache": {"enabled": True},
        "guardrails": {"topics": {"type": "keywords", "keywords": ["project falcon"],
                                  "action": "flag"}},
        "guardrail_policy": {"default": ["topics"]},
    }
    with in_process_gateway(tmp_path, config) as gateway:
        base = gateway.base_url
        sdk = openai.OpenAI(base_url=f"{base}/v1", api_key=OPEN, max_retries=0)
        stream = sdk.chat.completions.create(model="slow", messages=HELLO, stream=True)
        next(iter(stream))  # the first chunk is in; the upstream call is still under way
        assert metric(base, "relaygate_in_flight_calls") == 1
        assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert metric(base, "relaygate_in_flight_calls") == 0

        for _ in range(2):
            sdk.chat.completions.create(model="mock", messages=HELLO, temperature=0)
        assert metric(base, "relaygate_cache_hits_total", model="mock") == 1
        sdk.chat.completions.create(model="mock", messages=[
            {"role": "user", "content": "tell me about project falcon"}])
        assert metric(base, "relaygate_guardrail_hits_total", guard="topics", action="flag",
                      tenant="acme") == 1

        queued = sdk.responses.create(model="mock", input="hello", background=True)
        for _ in range(200):
            if sdk.responses.retrieve(queued.id).status == "completed":
                break
            time.sleep(0.02)
        deadline = time.monotonic() + 5
        while (metric(base, "relaygate_background_runs_total", state="completed") < 1
               and time.monotonic() < deadline):
            time.sleep(0.02)
        assert metric(base, "relaygate_background_runs_total", state="completed") == 1
        assert metric(base, "relaygate_background_runs_total", state="failed") == 0
        assert metric(base, "relaygate_background_runs_running") == 0
