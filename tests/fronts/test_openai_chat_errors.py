"""Bad input to `POST /v1/chat/completions`: OpenAI's error JSON, a precise message and
param, the right status, never a 500 — on the translated path and the byte relay alike."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.support.servers import GatewayProcess, free_port, run_gateway

LIMIT = 4096


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    config = {
        "server": {"max_body_bytes": LIMIT},
        "providers": {
            "mock": {"type": "mock"},
            # never reached: every request below is refused before the upstream is called
            "up": {"type": "openai", "base_url": f"http://127.0.0.1:{free_port()}/v1"},
        },
        "models": [
            {"name": "mock", "provider": "mock"},
            {"name": "relayed", "provider": "up", "model": "gpt-4o"},
        ],
    }
    with run_gateway(tmp_path_factory.mktemp("errors"), config) as process:
        yield process


def _post(gateway: GatewayProcess, content: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{gateway.base_url}/v1/chat/completions",
        content=content,
        headers={"content-type": "application/json", **headers},
        timeout=10,
    )


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"]
    assert "Traceback" not in response.text
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def test_malformed_json(gateway: GatewayProcess) -> None:
    error = _error(_post(gateway, b'{"model": "mock", "messages": [}'), 400)
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "invalid_json"
    assert error["message"].startswith("The request body is not valid JSON")


@pytest.mark.parametrize("body", [b"", b"[1, 2]", b'"text"'])
def test_body_that_is_not_an_object(gateway: GatewayProcess, body: bytes) -> None:
    error = _error(_post(gateway, body), 400)
    assert error["code"] == "invalid_json"


MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("model", ["mock", "relayed"])
@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"messages": MESSAGES}, "model", "Missing required parameter: 'model'."),
        ({"model": "", "messages": MESSAGES}, "model", "Invalid value for 'model'"),
        ({}, "messages", "Missing required parameter: 'messages'."),
        ({"messages": "hi"}, "messages", "Invalid value for 'messages'"),
        ({"messages": []}, "messages", "Invalid value for 'messages'"),
        ({"messages": MESSAGES, "temperature": "hot"}, "temperature", "valid number"),
        ({"messages": MESSAGES, "temperature": 3}, "temperature", "less than or equal to 2"),
        ({"messages": MESSAGES, "max_tokens": 0}, "max_tokens", "greater than or equal to 1"),
        ({"messages": MESSAGES, "n": 2}, "n", "Invalid value for 'n'"),
        ({"messages": MESSAGES, "stream": "yes"}, "stream", "Invalid value for 'stream'"),
        ({"messages": MESSAGES, "max_tokens": "5"}, "max_tokens", "valid integer"),
        (
            {"messages": MESSAGES, "tool_choice": {"type": "function", "function": {}}},
            "tool_choice.function.name",
            "Missing required parameter",
        ),
        ({"messages": [{"content": "x"}]}, "messages[0].role", "Missing required parameter"),
        ({"messages": [{"role": "user"}]}, "messages[0].content", "Missing required parameter"),
        (
            {"messages": [{"role": "user", "content": [{"type": "video", "x": 1}]}]},
            "messages[0].content[0].type",
            "Invalid value",
        ),
        (
            {"messages": [{"role": "tool", "content": "8"}]},
            "messages[0].tool_call_id",
            "Missing required parameter",
        ),
        (
            {"messages": MESSAGES, "tools": [{"type": "function", "function": {}}]},
            "tools[0].function.name",
            "Missing required parameter",
        ),
    ],
)
def test_wrong_shapes_name_the_param(
    gateway: GatewayProcess, model: str, body: dict[str, Any], param: str, words: str
) -> None:
    body = {"model": model, **body} if param != "model" else body
    error = _error(_post(gateway, json.dumps(body).encode()), 400)
    assert error["param"] == param
    assert words in error["message"]
    assert error["type"] == "invalid_request_error"


def test_unknown_model_is_404(gateway: GatewayProcess) -> None:
    body = {"model": "gpt-nope", "messages": MESSAGES}
    error = _error(_post(gateway, json.dumps(body).encode()), 404)
    assert error["code"] == "model_not_found"
    assert error["param"] == "model"
    assert "gpt-nope" in error["message"]


@pytest.mark.parametrize("model", ["mock", "relayed"])
def test_oversized_body_is_413(gateway: GatewayProcess, model: str) -> None:
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "x" * LIMIT}]})
    error = _error(_post(gateway, body.encode()), 413)
    assert error["code"] == "request_too_large"
    assert str(LIMIT) in error["message"]


def test_oversized_chunked_body_is_413(gateway: GatewayProcess) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"model": "mock", "messages": [{"role": "user", "content": "'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}]}'

    response = httpx.post(
        f"{gateway.base_url}/v1/chat/completions",
        content=chunks(),
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert "content-length" not in response.request.headers
    error = _error(response, 413)
    assert f"exceeds the limit of {LIMIT} bytes" in error["message"]


def test_body_just_under_the_limit_is_fine(gateway: GatewayProcess) -> None:
    padding = LIMIT - 200
    body = json.dumps({"model": "echo", "messages": [{"role": "user", "content": "z" * padding}]})
    body = body.replace('"echo"', '"mock"')
    response = _post(gateway, body.encode())
    assert response.status_code == 200, response.text


def test_audio_input_is_422(gateway: GatewayProcess) -> None:
    """Audio cannot be translated; the byte relay passes it on (OpenAI takes audio)."""
    model = "mock"
    content = [
        {"type": "text", "text": "listen"},
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
    ]
    body = {"model": model, "messages": [{"role": "user", "content": content}]}
    error = _error(_post(gateway, json.dumps(body).encode()), 422)
    assert error["code"] == "unsupported_content"
    assert error["param"] == "messages[0].content[1]"
    assert "Audio input is not supported" in error["message"]


def test_wrong_method_and_path_use_the_openai_shape(gateway: GatewayProcess) -> None:
    error = _error(httpx.get(f"{gateway.base_url}/v1/chat/completions"), 405)
    assert error["code"] == "method_not_allowed"
    error = _error(httpx.post(f"{gateway.base_url}/v1/nowhere", json={}), 404)
    assert error["type"] == "not_found_error"


def test_sdk_raises_the_matching_exception_classes(gateway: GatewayProcess) -> None:
    client = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="mock", messages=MESSAGES, temperature=7)
    assert bad.value.param == "temperature"
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=MESSAGES)
    with pytest.raises(openai.UnprocessableEntityError):
        client.chat.completions.create(
            model="mock",
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "input_audio", "input_audio": {"data": "AA", "format": "mp3"}}
                    ],
                }
            ],
        )
    with pytest.raises(openai.APIStatusError) as large:
        client.chat.completions.create(
            model="mock", messages=[{"role": "user", "content": "w" * LIMIT}]
        )
    assert large.value.status_code == 413


def test_no_traceback_reached_the_log(gateway: GatewayProcess) -> None:
    assert "Traceback" not in gateway.logs()
