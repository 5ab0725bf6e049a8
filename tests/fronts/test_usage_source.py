"""Usage says whose it is, on every model front, relayed (fast path) or translated.

Non-streamed answers carry `X-Relaygate-Usage-Source`; streamed usage the gateway writes
carries `relaygate_usage_source`. Upstreams that report no usage (an OpenAI-compatible
server, an Anthropic and a Gemini upstream in `no-usage` mode) still give the client
usage, our count, marked `estimated`. Also here: the client's `anthropic-beta` header
reaches an Anthropic upstream, `message_start` carries the prompt's tokens, and
`GET /v1beta/models` lists the models in Gemini's shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.support.fake_anthropic import FakeAnthropic
from tests.support.fake_gemini import FakeGemini
from tests.support.fake_openai import FakeOpenAI
from tests.support.gateway_logs import request_record
from tests.support.no_usage_openai import NoUsageUpstream
from tests.support.servers import GatewayProcess, ThreadedServer, run_gateway

HEADER = "x-relaygate-usage-source"
FIELD = "relaygate_usage_source"
BETA = "token-efficient-tools-2025-02-19"
WORDS = "one two three four five six"
# model → whose usage the client should get
SOURCES = {
    "gpt": "upstream",
    "gpt-bare": "estimated",
    "claude": "upstream",
    "claude-bare": "estimated",
    "gem": "upstream",
    "gem-bare": "estimated",
}


@dataclass
class Setup:
    gateway: GatewayProcess
    anthropic: FakeAnthropic
    fast_path: bool


@pytest.fixture(scope="module")
def upstreams() -> Iterator[tuple[FakeAnthropic, str, str, str, str]]:
    fake_anthropic = FakeAnthropic()
    with (
        ThreadedServer(FakeOpenAI().app) as oai,
        ThreadedServer(NoUsageUpstream()) as bare,
        ThreadedServer(fake_anthropic.app) as ant,
        ThreadedServer(FakeGemini(api_key="gk").app) as gem,
    ):
        yield fake_anthropic, oai.base_url, bare.base_url, ant.base_url, gem.base_url


@pytest.fixture(scope="module", params=[True, False], ids=["fast-path", "translated"])
def setup(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    upstreams: tuple[FakeAnthropic, str, str, str, str],
) -> Iterator[Setup]:
    fake_anthropic, oai, bare, ant, gem = upstreams
    config = {
        "server": {"fast_path": request.param},
        "providers": {
            "oai": {"type": "openai", "base_url": f"{oai}/v1", "api_key": "k"},
            "bare": {"type": "openai", "base_url": f"{bare}/v1", "api_key": "k"},
            "ant": {"type": "anthropic", "base_url": ant, "api_key": "k"},
            "gem": {"type": "gemini", "base_url": f"{gem}/v1beta", "api_key": "gk"},
        },
        "models": [
            {"name": "gpt", "provider": "oai", "model": "gpt-4o"},
            {"name": "gpt-bare", "provider": "bare", "model": "local-model"},
            {"name": "claude", "provider": "ant", "model": "claude-sonnet-4-5"},
            {"name": "claude-bare", "provider": "ant", "model": "no-usage"},
            {"name": "gem", "provider": "gem", "model": "gemini-2.0-flash"},
            {"name": "gem-bare", "provider": "gem", "model": "no-usage"},
        ],
        "aliases": {"flash": "gem"},
    }
    with run_gateway(tmp_path_factory.mktemp("usage-source"), config) as process:
        yield Setup(process, fake_anthropic, request.param)


def _chat(setup: Setup) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{setup.gateway.base_url}/v1", api_key="x", max_retries=0)


def _anthropic(setup: Setup, **headers: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=setup.gateway.base_url, api_key="x", max_retries=0, default_headers=headers
    )


@pytest.mark.parametrize("model", SOURCES)
def test_chat_answer_says_whose_usage(setup: Setup, model: str) -> None:
    raw = _chat(setup).chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": WORDS}]
    )
    reply = raw.parse()
    assert raw.headers[HEADER] == SOURCES[model]
    assert reply.usage is not None and reply.usage.prompt_tokens > 0
    assert reply.usage.completion_tokens > 0


@pytest.mark.parametrize("model", SOURCES)
def test_chat_stream_usage_says_whose(setup: Setup, model: str) -> None:
    stream = _chat(setup).chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": WORDS}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert WORDS in text
    usage = [c.usage for c in chunks if c.usage is not None]
    assert len(usage) == 1 and usage[0].completion_tokens > 0 and usage[0].prompt_tokens > 0
    marked = (usage[0].model_extra or {}).get(FIELD)
    if SOURCES[model] == "estimated" or not setup.fast_path or model != "gpt":
        assert marked == SOURCES[model]
    else:  # the fast path relays the upstream's own usage chunk byte for byte
        assert marked is None


def test_relayed_stream_without_usage_is_still_counted(setup: Setup) -> None:
    """The client did not ask for usage: none is added to its stream, but the request log
    (the ledger's source) still gets our count."""
    with httpx.stream(
        "POST",
        f"{setup.gateway.base_url}/v1/chat/completions",
        json={
            "model": "gpt-bare",
            "stream": True,
            "messages": [{"role": "user", "content": WORDS}],
        },
        timeout=10,
    ) as response:
        body = response.read().decode()
        request_id = response.headers["x-request-id"]
    assert '"usage":{' not in body.replace(" ", "") and body.rstrip().endswith("data: [DONE]")
    record = request_record(setup.gateway, request_id)
    assert record["usage_source"] == "estimated"
    assert record["output_tokens"] == len(WORDS.split())


@pytest.mark.parametrize("model", SOURCES)
def test_anthropic_answer_says_whose_usage(setup: Setup, model: str) -> None:
    raw = _anthropic(setup).messages.with_raw_response.create(
        model=model, max_tokens=64, messages=[{"role": "user", "content": WORDS}]
    )
    reply = raw.parse()
    assert raw.headers[HEADER] == SOURCES[model]
    assert reply.usage.input_tokens > 0 and reply.usage.output_tokens > 0


@pytest.mark.parametrize("model", [name for name in SOURCES if name != "claude-bare"])
def test_anthropic_stream_counts_input_from_the_start(setup: Setup, model: str) -> None:
    with _anthropic(setup).messages.stream(
        model=model, max_tokens=64, messages=[{"role": "user", "content": WORDS}]
    ) as stream:
        events = list(stream)
        final = stream.get_final_message()
    start = next(e for e in events if e.type == "message_start")
    assert start.message.usage.input_tokens > 0
    assert final.usage.output_tokens > 0
    delta = next(e for e in events if e.type == "message_delta")
    if not (setup.fast_path and model == "claude"):  # relayed: the upstream's bytes as is
        assert (delta.usage.model_extra or {}).get(FIELD) == SOURCES[model]


def test_anthropic_stream_without_upstream_usage_is_counted(setup: Setup) -> None:
    """An Anthropic upstream that breaks its format and sends no usage: relayed, the log
    gets our count; translated, the client does too."""
    with httpx.stream(
        "POST",
        f"{setup.gateway.base_url}/v1/messages",
        json={
            "model": "claude-bare",
            "max_tokens": 64,
            "stream": True,
            "messages": [{"role": "user", "content": WORDS}],
        },
        timeout=10,
    ) as response:
        body = response.read().decode()
        request_id = response.headers["request-id"]
    assert "event: message_stop" in body
    record = request_record(setup.gateway, request_id)
    assert record["usage_source"] == "estimated" and record["output_tokens"] > 0
    if not setup.fast_path:
        assert f'"{FIELD}":"estimated"' in body


def test_anthropic_beta_reaches_an_anthropic_upstream(setup: Setup) -> None:
    client = _anthropic(setup, **{"anthropic-beta": BETA})
    messages: Any = [{"role": "user", "content": "hi"}]
    client.messages.create(model="claude", max_tokens=16, messages=messages)
    assert setup.anthropic.headers[-1].get("anthropic-beta") == BETA
    with client.messages.stream(model="claude", max_tokens=16, messages=messages) as stream:
        stream.until_done()
    assert setup.anthropic.headers[-1].get("anthropic-beta") == BETA
    client.messages.count_tokens(model="claude", messages=messages)
    assert setup.anthropic.headers[-1].get("anthropic-beta") == BETA
    assert setup.anthropic.headers[-1]["x-api-key"] == "k"  # ours, not overridable


def _gemini(setup: Setup, model: str, action: str = "generateContent") -> httpx.Response:
    body = {"contents": [{"role": "user", "parts": [{"text": WORDS}]}]}
    url = f"{setup.gateway.base_url}/v1beta/models/{model}:{action}"
    return httpx.post(url, json=body, timeout=10)


@pytest.mark.parametrize("model", SOURCES)
def test_gemini_answer_says_whose_usage(setup: Setup, model: str) -> None:
    reply = _gemini(setup, model)
    assert reply.status_code == 200, reply.text
    assert reply.headers[HEADER] == SOURCES[model]
    usage = reply.json()["usageMetadata"]
    assert usage["promptTokenCount"] > 0 and usage["candidatesTokenCount"] > 0


def test_gemini_relayed_stream_without_usage_is_still_counted(setup: Setup) -> None:
    reply = httpx.post(
        f"{setup.gateway.base_url}/v1beta/models/gem-bare:streamGenerateContent?alt=sse",
        json={"contents": [{"role": "user", "parts": [{"text": WORDS}]}]},
        timeout=10,
    )
    assert reply.status_code == 200 and WORDS.split()[0] in reply.text
    record = request_record(setup.gateway, reply.headers["x-request-id"])
    assert record["usage_source"] == "estimated" and record["output_tokens"] > 0


def test_gemini_model_list(setup: Setup) -> None:
    listing = httpx.get(f"{setup.gateway.base_url}/v1beta/models", timeout=10)
    assert listing.status_code == 200
    models = {model["name"]: model for model in listing.json()["models"]}
    assert {f"models/{name}" for name in SOURCES} | {"models/flash"} == set(models)
    assert "generateContent" in models["models/gem"]["supportedGenerationMethods"]
    one = httpx.get(f"{setup.gateway.base_url}/v1beta/models/claude", timeout=10)
    assert one.status_code == 200 and one.json()["name"] == "models/claude"
    missing = httpx.get(f"{setup.gateway.base_url}/v1beta/models/nope", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
