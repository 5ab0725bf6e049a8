"""/v1/messages and /v1/messages/count_tokens on a real port.

First the official `anthropic` SDK end to end, routed to each provider: the built-in mock,
the openai provider (a local OpenAI-speaking server) and the anthropic provider (a local
Anthropic-speaking server). Then client errors, in Anthropic's own error shape.
One gateway serves the module (with an API key, so authentication is exercised too)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from tests.support.anthropic_schema import check_message, check_stream_event
from tests.support.fake_anthropic import FakeAnthropic
from tests.support.fake_openai import FakeOpenAI
from tests.support.servers import GatewayProcess, ThreadedServer, run_gateway

CALCULATOR: Any = {
    "name": "calculator",
    "description": "Do arithmetic",
    "input_schema": {
        "type": "object",
        "properties": {
            "a": {"type": "number"},
            "b": {"type": "number"},
            "operation": {"type": "string", "enum": ["add", "subtract", "multiply", "divide"]},
        },
        "required": ["a", "b", "operation"],
    },
}
KEY = "rg-test-key-0123456789"
# provider → (model that repeats the prompt, model that calls tools)
ROUTES = {
    "mock": ("echo", "mock"),
    "openai": ("gpt-fake", "gpt-fake"),
    "anthropic": ("claude-fake", "claude-fake"),
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    fake_openai, fake_anthropic = FakeOpenAI(), FakeAnthropic()
    with ThreadedServer(fake_openai.app) as oai, ThreadedServer(fake_anthropic.app) as ant:
        config = {
            "server": {"max_body_bytes": 64 * 1024},
            "keys": [{"tenant": "acme", "key": KEY}],
            "providers": {
                "mock": {"type": "mock"},
                "oai": {"type": "openai", "base_url": f"{oai.base_url}/v1", "api_key": "k1"},
                "ant": {"type": "anthropic", "base_url": ant.base_url, "api_key": "k2"},
            },
            "models": [
                {"name": "echo", "provider": "mock"},
                {"name": "mock", "provider": "mock"},
                {"name": "gpt-fake", "provider": "oai", "model": "gpt-4o"},
                {"name": "claude-fake", "provider": "ant", "model": "claude-sonnet-4-5"},
            ],
        }
        with run_gateway(tmp_path_factory.mktemp("anthropic-sdk"), config) as process:
            yield process


@pytest.fixture
def client(gateway: GatewayProcess) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.base_url, api_key=KEY, max_retries=0)


@pytest.mark.parametrize("route", ROUTES)
def test_plain_message(client: anthropic.Anthropic, route: str) -> None:
    model = ROUTES[route][0]
    reply = client.messages.create(
        model=model, max_tokens=100, messages=[{"role": "user", "content": "repeat after me"}]
    )
    assert reply.type == "message" and reply.role == "assistant"
    assert reply.id.startswith("msg_")
    assert [block.type for block in reply.content] == ["text"]
    assert reply.content[0].text == "repeat after me"  # type: ignore[union-attr]
    assert reply.stop_reason == "end_turn"
    assert reply.usage.input_tokens > 0 and reply.usage.output_tokens > 0


@pytest.mark.parametrize("route", ["openai", "anthropic"])
def test_system_prompt_and_multi_turn(client: anthropic.Anthropic, route: str) -> None:
    reply = client.messages.create(
        model=ROUTES[route][0],
        max_tokens=100,
        system="Be brief.",
        messages=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "second question"},
        ],
    )
    assert reply.content[0].text == "second question [system: Be brief.]"  # type: ignore[union-attr]


@pytest.mark.parametrize("route", ROUTES)
def test_image_input(client: anthropic.Anthropic, route: str) -> None:
    image: Any = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
    }
    reply = client.messages.create(
        model=ROUTES[route][1],
        max_tokens=100,
        messages=[{"role": "user", "content": [image, {"type": "text", "text": "What is it?"}]}],
    )
    text = reply.content[0].text  # type: ignore[union-attr]
    assert "1 image" in text


@pytest.mark.parametrize("route", ROUTES)
def test_streamed_message(client: anthropic.Anthropic, route: str) -> None:
    with client.messages.stream(
        model=ROUTES[route][0],
        max_tokens=100,
        messages=[{"role": "user", "content": "one two three four"}],
    ) as stream:
        events = [event.type for event in stream]
        final = stream.get_final_message()
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert final.content[0].text == "one two three four"  # type: ignore[union-attr]
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0 and final.usage.input_tokens > 0


@pytest.mark.parametrize("route", ROUTES)
def test_tool_call_and_result(client: anthropic.Anthropic, route: str) -> None:
    model = ROUTES[route][1]
    question: Any = {"role": "user", "content": "Calculate 5 + 3"}
    first = client.messages.create(
        model=model, max_tokens=200, tools=[CALCULATOR], messages=[question]
    )
    assert first.stop_reason == "tool_use"
    tool = first.content[-1]
    assert tool.type == "tool_use" and tool.name == "calculator"
    assert tool.input == {"a": 5, "b": 3, "operation": "add"}
    second = client.messages.create(
        model=model,
        max_tokens=200,
        tools=[CALCULATOR],
        messages=[
            question,
            {
                "role": "assistant",
                "content": [block.model_dump(exclude_none=True) for block in first.content],
            },  # type: ignore[misc]
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": tool.id, "content": "8"}],
            },
        ],
    )
    assert second.stop_reason == "end_turn"
    assert second.content[-1].text == "The result is 8."  # type: ignore[union-attr]


@pytest.mark.parametrize("route", ROUTES)
def test_streamed_tool_use_arguments_arrive_whole(client: anthropic.Anthropic, route: str) -> None:
    with client.messages.stream(
        model=ROUTES[route][1],
        max_tokens=200,
        tools=[CALCULATOR],
        messages=[{"role": "user", "content": "Calculate 5 + 3"}],
    ) as stream:
        fragments = [event.partial_json for event in stream if event.type == "input_json"]  # type: ignore[union-attr]
        final = stream.get_final_message()
    assert len(fragments) >= 2  # really streamed in pieces
    assert json.loads("".join(fragments)) == {"a": 5, "b": 3, "operation": "add"}
    assert final.stop_reason == "tool_use"
    assert final.content[-1].input == {"a": 5, "b": 3, "operation": "add"}  # type: ignore[union-attr]


@pytest.mark.parametrize("route", ROUTES)
def test_tool_choice_none_answers_in_text(client: anthropic.Anthropic, route: str) -> None:
    reply = client.messages.create(
        model=ROUTES[route][1],
        max_tokens=200,
        tools=[CALCULATOR],
        tool_choice={"type": "none"},
        messages=[{"role": "user", "content": "Calculate 5 + 3"}],
    )
    assert [block.type for block in reply.content] == ["text"]
    assert reply.stop_reason == "end_turn"


@pytest.mark.parametrize("route", ROUTES)
def test_count_tokens(client: anthropic.Anthropic, route: str) -> None:
    model = ROUTES[route][1]
    messages: Any = [{"role": "user", "content": "How many tokens is this sentence?"}]
    plain = client.messages.count_tokens(model=model, messages=messages)
    with_tools = client.messages.count_tokens(model=model, messages=messages, tools=[CALCULATOR])
    with_system = client.messages.count_tokens(model=model, messages=messages, system="Be brief.")
    assert plain.input_tokens > 5
    assert with_tools.input_tokens > plain.input_tokens
    assert with_system.input_tokens > plain.input_tokens


def test_count_tokens_is_the_anthropic_upstreams_own(client: anthropic.Anthropic) -> None:
    messages: Any = [{"role": "user", "content": "count these five words please"}]
    counted = client.messages.count_tokens(model="claude-fake", messages=messages, system="Hi.")
    reply = client.messages.create(
        model="claude-fake", max_tokens=50, messages=messages, system="Hi."
    )
    assert counted.input_tokens == reply.usage.input_tokens == 9


# --- client errors, in Anthropic's shape ----------------------------------------------


def post(
    gateway: GatewayProcess, body: Any, path: str = "/v1/messages", **kwargs: Any
) -> httpx.Response:
    headers = kwargs.pop("headers", {"x-api-key": KEY})
    if isinstance(body, bytes):
        return httpx.post(f"{gateway.base_url}{path}", content=body, headers=headers, timeout=10)
    return httpx.post(f"{gateway.base_url}{path}", json=body, headers=headers, timeout=10)


def anthropic_error(reply: httpx.Response, status: int, kind: str) -> str:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"type", "error"} and body["type"] == "error"
    assert body["error"]["type"] == kind
    assert "Traceback" not in body["error"]["message"]
    message: str = body["error"]["message"]
    return message


def user(text: str = "hi") -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("prompt", ["repeat after me", "Calculate 5 + 3"])
def test_replies_have_every_field_of_todays_schema(
    gateway: GatewayProcess, route: str, prompt: str
) -> None:
    """Whole and streamed, strictly valid against the SDK's models with no field missing:
    `citations`, `caller`, `stop_details`, `container`, and all of `usage`."""
    body = {"model": ROUTES[route][1], "max_tokens": 100, "messages": user(prompt),
            "tools": [CALCULATOR]}
    whole = post(gateway, body)
    assert whole.status_code == 200, whole.text
    message = check_message(whole.json())
    kinds = [block.type for block in message.content]
    assert kinds[-1] == ("text" if prompt.startswith("repeat") else "tool_use")
    with httpx.stream("POST", f"{gateway.base_url}/v1/messages", headers={"x-api-key": KEY},
                      json={**body, "stream": True}, timeout=10) as reply:
        events = [json.loads(line[6:]) for line in reply.iter_lines()
                  if line.startswith("data: ")]
    for event in events:
        if event["type"] != "ping":
            check_stream_event(event)
    started = [event["content_block"]["type"] for event in events
               if event["type"] == "content_block_start"]
    assert started == kinds
    assert [event["type"] for event in events][-2:] == ["message_delta", "message_stop"]


def test_malformed_json(gateway: GatewayProcess) -> None:
    message = anthropic_error(post(gateway, b'{"model": '), 400, "invalid_request_error")
    assert "not valid JSON" in message


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "mock"}, "'messages'"),
        ({"model": "mock", "messages": [{"role": "wizard", "content": "x"}]}, "'messages[0].role'"),
        (
            {"model": "mock", "messages": [{"role": "user", "content": [{"type": "video"}]}]},
            "'messages[0].content[0].type'",
        ),
        (
            {"model": "mock", "messages": [{"role": "user", "content": [{"type": "text"}]}]},
            "'messages[0].content[0].text'",
        ),
        (
            {
                "model": "mock",
                "messages": [
                    {"role": "user", "content": [{"type": "image", "source": {"type": "url"}}]}
                ],
            },
            "'messages[0].content[0].source.url'",
        ),
        ({"model": "mock", "messages": user(), "temperature": 2}, "'temperature'"),
        ({"model": "mock", "messages": user(), "max_tokens": 0}, "'max_tokens'"),
        (
            {
                "model": "mock",
                "messages": user(),
                "thinking": {"type": "enabled", "budget_tokens": 10},
            },
            "'thinking.budget_tokens'",
        ),
        (
            {"model": "mock", "messages": user(), "tools": [{"name": "calc"}]},
            "'tools[0].input_schema'",
        ),
        (
            {"model": "mock", "messages": user(), "tool_choice": {"type": "tool"}},
            "'tool_choice.name'",
        ),
    ],
)
def test_invalid_fields_are_named(
    gateway: GatewayProcess, body: dict[str, Any], param: str
) -> None:
    message = anthropic_error(post(gateway, body), 400, "invalid_request_error")
    assert param in message


def test_unknown_model(gateway: GatewayProcess) -> None:
    body = {"model": "no-such-model", "max_tokens": 5, "messages": user()}
    message = anthropic_error(post(gateway, body), 404, "not_found_error")
    assert "no-such-model" in message


def test_server_tool_for_another_provider_is_refused(gateway: GatewayProcess) -> None:
    body = {
        "model": "mock",
        "max_tokens": 5,
        "messages": user(),
        "tools": [{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}],
    }
    message = anthropic_error(post(gateway, body), 422, "invalid_request_error")
    assert "web_search_20250305" in message


def test_server_tool_is_relayed_to_an_anthropic_upstream(gateway: GatewayProcess) -> None:
    body = {
        "model": "claude-fake",
        "max_tokens": 5,
        "messages": user("hello"),
        "tools": [{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}],
    }
    reply = post(gateway, body)
    assert reply.status_code == 200, reply.text
    assert reply.json()["content"][0]["text"] == "hello"


def test_oversized_body(gateway: GatewayProcess) -> None:
    body = {"model": "mock", "max_tokens": 5, "messages": user("x" * 70_000)}
    anthropic_error(post(gateway, body), 413, "request_too_large")


def test_wrong_method(gateway: GatewayProcess) -> None:
    reply = httpx.get(f"{gateway.base_url}/v1/messages", headers={"x-api-key": KEY}, timeout=10)
    anthropic_error(reply, 405, "invalid_request_error")


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong-key-000000"}])
def test_authentication(gateway: GatewayProcess, headers: dict[str, str]) -> None:
    body = {"model": "mock", "max_tokens": 5, "messages": user()}
    anthropic_error(post(gateway, body, headers=headers), 401, "authentication_error")
    counted = post(gateway, body, "/v1/messages/count_tokens", headers=headers)
    anthropic_error(counted, 401, "authentication_error")


def test_count_tokens_validation(gateway: GatewayProcess) -> None:
    message = anthropic_error(
        post(gateway, {"model": "mock"}, "/v1/messages/count_tokens"), 400, "invalid_request_error"
    )
    assert "'messages'" in message


def test_request_id_header(gateway: GatewayProcess) -> None:
    reply = post(gateway, {"model": "mock", "max_tokens": 5, "messages": user()})
    assert reply.status_code == 200
    assert reply.headers["request-id"] == reply.headers["x-request-id"]


def test_sdk_raises_the_matching_exception_classes(gateway: GatewayProcess) -> None:
    client = anthropic.Anthropic(base_url=gateway.base_url, api_key=KEY, max_retries=0)
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(
            model="nope", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(
            model="mock",
            max_tokens=5,
            messages=[{"role": "robot", "content": "x"}],  # type: ignore[typeddict-item]
        )
    assert "messages[0].role" in str(caught.value)
    stranger = anthropic.Anthropic(
        base_url=gateway.base_url, api_key="bad-key-123456", max_retries=0
    )
    with pytest.raises(anthropic.AuthenticationError):
        stranger.messages.create(
            model="mock", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )


def test_no_traceback_reached_the_log(gateway: GatewayProcess) -> None:
    assert "Traceback" not in gateway.logs()
