"""Task rules (tags, tools, a regex, a long input, the tenant) and a breaker shared by two
gateway processes on one Redis."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

from tests.conftest import REDIS_URL
from tests.support.faulty_upstream import Fault
from tests.support.routing_gateway import HELLO, Upstreams, client, in_process_gateway
from tests.support.servers import run_gateway

TOOL: ChatCompletionToolParam = {
    "type": "function",
    "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
}


def routed(upstreams: Upstreams) -> dict[str, Any]:
    return {
        "providers": {name: upstreams.openai(name) for name in ("general", "coder", "long")},
        "models": [
            {"name": "assistant", "provider": "general", "model": "m"},
            {"name": "coder", "provider": "coder", "model": "m-code"},
            {"name": "long", "provider": "long", "model": "m-long", "id": "long-1"},
        ],
        "routing": {"rules": [
            {"when": {"tags": ["code"]}, "to": "coder"},
            {"when": {"last_user_matches": r"(?i)\b(python|traceback|def)\b"}, "to": "coder",
             "models": ["assistant"]},
            {"when": {"input_tokens_over": 500}, "to": "long-1"},
            {"when": {"has_tools": True}, "to": "long"},
        ]},
    }


def test_rules_send_code_to_one_model_and_long_contexts_to_another(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    def served(messages: list[ChatCompletionMessageParam], **extra: Any) -> str:
        reply = sdk.chat.completions.with_raw_response.create(
            model="assistant", messages=messages, **extra
        )
        return reply.headers["x-relaygate-served-by"]

    with in_process_gateway(tmp_path, routed(upstreams)) as gateway:
        sdk = client(gateway.base_url)
        plain = served(HELLO)
        tagged = served(HELLO, extra_headers={"x-relaygate-tags": "code, urgent"})
        by_text = served([{"role": "user", "content": "Why does this Python loop hang?"}])
        long = served([{"role": "user", "content": "words " * 800}])
        with_tools = served(HELLO, tools=[TOOL])
    assert plain == "general/m"
    assert tagged == "coder/m-code"
    assert by_text == "coder/m-code"
    assert long == "long/m-long"
    assert with_tools == "long/m-long"


def test_a_breaker_opened_on_one_instance_stops_the_other_sending(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    upstreams.faulty.faults["dead"] = Fault("500")
    prefix = f"test-breakers-{uuid.uuid4().hex}:"
    config = {
        "providers": {"dead": upstreams.openai("dead"), "live": upstreams.openai("live")},
        "models": [{"name": "gpt", "provider": "dead", "model": "m", "id": "dead"},
                   {"name": "gpt", "provider": "live", "model": "m", "id": "live"}],
        "routing": {
            "redis_prefix": prefix,
            "models": {"gpt": {"strategy": "round_robin",
                               "breaker": {"failures": 2, "cooldown_seconds": 60},
                               "retries": {"backoff_seconds": 0.001}}},
        },
        "storage": {"redis_url": REDIS_URL},
    }
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    with run_gateway(tmp_path / "one", config) as first, \
            run_gateway(tmp_path / "two", config) as second:
        one = client(first.base_url)
        for _ in range(4):  # two of them start at `dead`: its breaker opens on `first`
            one.chat.completions.create(model="gpt", messages=HELLO)
        assert upstreams.faulty.calls["dead"] == 2
        state = breaker_state(second.base_url, "dead", "open")
        upstreams.faulty.reset_counts()
        two = client(second.base_url)
        for _ in range(10):
            two.chat.completions.create(model="gpt", messages=HELLO)
    assert state == "open"
    assert upstreams.faulty.calls == {"live": 10}  # `second` never sent to `dead`


def breaker_state(base_url: str, deployment: str, awaited: str, within: float = 5.0) -> str:
    """The deployment's breaker state on /healthz, once it is `awaited` (or the deadline)."""
    deadline = time.monotonic() + within
    while True:
        states = httpx.get(f"{base_url}/healthz").json()["breakers"]
        state = str({item["deployment"]: item["state"] for item in states}[deployment])
        if state == awaited or time.monotonic() > deadline:
            return state
        time.sleep(0.02)
