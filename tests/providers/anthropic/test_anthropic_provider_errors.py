"""The `anthropic` provider's failures, each in each front's own format: upstream error
bodies (400, 401, 429 with retry-after, 529 overloaded, 500), transport failures, and
streams that fail before or after their first event."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.providers.anthropic.shared import UPSTREAM_KEY
from tests.support.servers import GatewayProcess

# --- errors: each upstream failure in each front's own format ---------------------------

FAILURES = [
    # upstream status, gateway status, OpenAI error type, Anthropic error type
    (400, 400, "invalid_request_error", "invalid_request_error"),
    (401, 401, "authentication_error", "authentication_error"),
    (429, 429, "rate_limit_error", "rate_limit_error"),
    (529, 503, "upstream_error", "overloaded_error"),
    (500, 502, "upstream_error", "api_error"),
]


@pytest.mark.parametrize(("upstream", "status", "openai_type", "anthropic_type"), FAILURES)
def test_upstream_errors_in_the_chat_front_format(
    gateway: GatewayProcess, upstream: int, status: int, openai_type: str, anthropic_type: str
) -> None:
    body = {"model": f"claude:fail-{upstream}", "messages": [{"role": "user", "content": "x"}]}
    reply = httpx.post(f"{gateway.base_url}/v1/chat/completions", json=body, timeout=10)
    assert reply.status_code == status
    error = reply.json()["error"]
    assert error["type"] == openai_type
    assert set(error) == {"message", "type", "param", "code"}
    if upstream == 400:
        assert "tool_use_id" in error["message"]  # the upstream's own words are relayed
    if upstream in (429, 529):
        assert reply.headers["retry-after"] == "7"


@pytest.mark.parametrize(("upstream", "status", "openai_type", "anthropic_type"), FAILURES)
def test_upstream_errors_in_the_messages_front_format(
    gateway: GatewayProcess, upstream: int, status: int, openai_type: str, anthropic_type: str
) -> None:
    body = {
        "model": f"claude:fail-{upstream}",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "x"}],
    }
    reply = httpx.post(f"{gateway.base_url}/v1/messages", json=body, timeout=10)
    assert reply.status_code == status
    assert reply.json()["type"] == "error"
    assert reply.json()["error"]["type"] == anthropic_type
    if upstream in (429, 529):
        assert reply.headers["retry-after"] == "7"


def test_sdk_exception_classes(claude: anthropic.Anthropic, chat: openai.OpenAI) -> None:
    cases: list[tuple[str, type[Exception], type[Exception]]] = [
        ("claude:fail-400", anthropic.BadRequestError, openai.BadRequestError),
        ("claude:fail-401", anthropic.AuthenticationError, openai.AuthenticationError),
        ("claude:fail-429", anthropic.RateLimitError, openai.RateLimitError),
        ("claude:fail-529", anthropic.InternalServerError, openai.InternalServerError),
    ]
    for model, claude_error, chat_error in cases:
        with pytest.raises(claude_error):
            claude.messages.create(
                model=model, max_tokens=5, messages=[{"role": "user", "content": "x"}]
            )
        with pytest.raises(chat_error):
            chat.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}])


@pytest.mark.parametrize(
    ("model", "status"),
    [("claude:malformed", 502), ("claude:hang", 504), ("refused:any-model", 502)],
)
def test_transport_failures(gateway: GatewayProcess, model: str, status: int) -> None:
    body = {"model": model, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    reply = httpx.post(f"{gateway.base_url}/v1/messages", json=body, timeout=10)
    assert reply.status_code == status
    assert reply.json()["type"] == "error"
    chat_reply = httpx.post(f"{gateway.base_url}/v1/chat/completions", json=body, timeout=10)
    assert chat_reply.status_code == status
    assert "error" in chat_reply.json()


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/chat/completions"])
def test_streamed_failure_before_the_first_event_gets_a_status(
    gateway: GatewayProcess, path: str
) -> None:
    body = {
        "model": "claude:fail-429",
        "max_tokens": 5,
        "stream": True,
        "messages": [{"role": "user", "content": "x"}],
    }
    with httpx.stream("POST", f"{gateway.base_url}{path}", json=body, timeout=10) as reply:
        reply.read()
    assert reply.status_code == 429
    assert reply.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("model", ["claude:error-stream", "claude:cut-stream"])
def test_mid_stream_failure_ends_with_an_anthropic_error_event(
    claude: anthropic.Anthropic, model: str
) -> None:
    seen = ""
    with pytest.raises(anthropic.APIStatusError) as caught:
        with claude.messages.stream(
            model=model, max_tokens=50, messages=[{"role": "user", "content": "one two three four"}]
        ) as stream:
            for text in stream.text_stream:
                seen += text
    assert seen == "one two"
    body: Any = caught.value.body
    assert body["type"] == "error" and body["error"]["type"] in ("overloaded_error", "api_error")


@pytest.mark.parametrize("model", ["claude:error-stream", "claude:cut-stream"])
def test_mid_stream_failure_in_the_chat_front(gateway: GatewayProcess, model: str) -> None:
    body = {
        "model": model,
        "stream": True,
        "messages": [{"role": "user", "content": "one two three"}],
    }
    with httpx.stream(
        "POST", f"{gateway.base_url}/v1/chat/completions", json=body, timeout=10
    ) as reply:
        frames = [line for line in reply.iter_lines() if line.startswith("data: ")]
    assert reply.status_code == 200
    assert frames[-1] == "data: [DONE]"
    assert "error" in json.loads(frames[-2].removeprefix("data: "))


def test_gateway_log_holds_no_upstream_secret(gateway: GatewayProcess) -> None:
    assert UPSTREAM_KEY not in gateway.logs()
