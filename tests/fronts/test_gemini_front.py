"""The Gemini front (`/v1beta/models/{model}:generateContent` …) over real HTTP.

Clients speak Gemini's REST shape with httpx (the google SDK is not installed). The
gateway serves the mock provider and a fake Gemini upstream, fast path on and off.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.fake_gemini import FakeGemini
from tests.support.servers import GatewayProcess, ThreadedServer, run_gateway

KEY = "rg-gemini-front-key-0001"
HEADERS = {"x-goog-api-key": KEY}
CALCULATOR = {
    "functionDeclarations": [
        {
            "name": "calculator",
            "description": "Do arithmetic",
            "parameters": {
                "type": "OBJECT",
                "properties": {
                    "a": {"type": "NUMBER"},
                    "b": {"type": "NUMBER"},
                    "operation": {"type": "STRING", "enum": ["add", "multiply"]},
                },
                "required": ["a", "b", "operation"],
            },
        }
    ]
}


@pytest.fixture(scope="module")
def upstream() -> Iterator[ThreadedServer]:
    with ThreadedServer(FakeGemini(api_key="upstream-key").app) as server:
        yield server


@pytest.fixture(scope="module", params=[True, False], ids=["fast-path", "translated"])
def gateway(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    upstream: ThreadedServer,
) -> Iterator[GatewayProcess]:
    config = {
        "server": {"fast_path": request.param},
        "providers": {
            "mock": {"type": "mock"},
            "gem": {
                "type": "gemini",
                "base_url": f"{upstream.base_url}/v1beta",
                "api_key": "upstream-key",
            },
        },
        "models": [
            {"name": "mock", "provider": "mock"},
            {"name": "echo", "provider": "mock"},
            {"name": "gemini-fast", "provider": "gem", "model": "gemini-2.0-flash"},
        ],
        "keys": [{"tenant": "acme", "key": KEY}],
    }
    with run_gateway(tmp_path_factory.mktemp("gemini-front"), config) as process:
        yield process


def post(gateway: GatewayProcess, path: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("headers", HEADERS)
    return httpx.post(f"{gateway.base_url}{path}", json=body, timeout=10, **kwargs)


def user(text: str) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}]}


def sse_chunks(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]


@pytest.mark.parametrize("model", ["echo", "gemini-fast"])
def test_generate_content_plain(gateway: GatewayProcess, model: str) -> None:
    reply = post(gateway, f"/v1beta/models/{model}:generateContent", user("hello over there"))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    candidate = body["candidates"][0]
    assert candidate["content"]["role"] == "model"
    assert candidate["content"]["parts"][0]["text"] == "hello over there"
    assert candidate["finishReason"] == "STOP"
    usage = body["usageMetadata"]
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]


def test_key_in_query_string_and_missing_key(gateway: GatewayProcess) -> None:
    path = "/v1beta/models/echo:generateContent"
    ok = post(gateway, f"{path}?key={KEY}", user("hi"), headers={})
    assert ok.status_code == 200
    missing = post(gateway, path, user("hi"), headers={})
    assert missing.status_code == 401
    assert missing.json()["error"]["status"] == "UNAUTHENTICATED"
    assert missing.json()["error"]["code"] == 401


def test_errors_in_gemini_shape(gateway: GatewayProcess) -> None:
    unknown = post(gateway, "/v1beta/models/no-such-model:generateContent", user("x"))
    assert unknown.status_code == 404 and unknown.json()["error"]["status"] == "NOT_FOUND"
    bad_action = post(gateway, "/v1beta/models/echo:explode", user("x"))
    assert bad_action.status_code == 404 and bad_action.json()["error"]["status"] == "NOT_FOUND"
    empty = post(gateway, "/v1beta/models/echo:generateContent", {"contents": []})
    assert empty.status_code == 400
    assert empty.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "contents" in empty.json()["error"]["message"]
    not_json = httpx.post(
        f"{gateway.base_url}/v1beta/models/echo:generateContent",
        content=b"{oops",
        headers=HEADERS,
        timeout=10,
    )
    assert not_json.status_code == 400 and "error" in not_json.json()


@pytest.mark.parametrize(
    ("status", "expected", "name"),
    [(429, 429, "RESOURCE_EXHAUSTED"), (500, 502, "UNAVAILABLE"), (503, 503, "UNAVAILABLE")],
)
def test_upstream_failures_in_gemini_shape(
    gateway: GatewayProcess, status: int, expected: int, name: str
) -> None:
    for action in ("generateContent", "streamGenerateContent?alt=sse"):
        reply = post(gateway, f"/v1beta/models/gem:fail-{status}:{action}", user("x"))
        assert reply.status_code == expected, reply.text
        assert reply.json()["error"]["status"] == name
    if status == 429:
        assert reply.headers["retry-after"] == "37"


def test_tool_call_round_trip_without_ids(gateway: GatewayProcess) -> None:
    """A Gemini client sends id-less calls and results; the gateway pairs them by name."""
    body = {**user("Calculate 5 + 3"), "tools": [CALCULATOR]}
    first = post(gateway, "/v1beta/models/mock:generateContent", body).json()
    part = first["candidates"][0]["content"]["parts"][0]
    assert part["functionCall"]["name"] == "calculator"
    assert part["functionCall"]["args"] == {"a": 5, "b": 3, "operation": "add"}
    assert first["candidates"][0]["finishReason"] == "STOP"
    history = body["contents"] + [
        {
            "role": "model",
            "parts": [
                {"functionCall": {"name": "calculator", "args": part["functionCall"]["args"]}}
            ],
        },
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "calculator", "response": {"result": 8}}}],
        },
    ]
    second = post(
        gateway, "/v1beta/models/mock:generateContent", {"contents": history, "tools": [CALCULATOR]}
    )
    assert second.json()["candidates"][0]["content"]["parts"][0]["text"] == "The result is 8."


def test_tool_config_none_and_named(gateway: GatewayProcess) -> None:
    body = {**user("Calculate 5 + 3"), "tools": [CALCULATOR]}
    none = {**body, "toolConfig": {"functionCallingConfig": {"mode": "NONE"}}}
    parts = post(gateway, "/v1beta/models/mock:generateContent", none).json()["candidates"][0][
        "content"
    ]["parts"]
    assert all("functionCall" not in part for part in parts)
    named = {
        **user("hello"),
        "tools": [CALCULATOR],
        "toolConfig": {
            "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["calculator"]}
        },
    }
    parts = post(gateway, "/v1beta/models/mock:generateContent", named).json()["candidates"][0][
        "content"
    ]["parts"]
    assert parts[0]["functionCall"]["name"] == "calculator"


@pytest.mark.parametrize("model", ["mock", "gemini-fast"])
def test_stream_sse_and_json_array_agree(gateway: GatewayProcess, model: str) -> None:
    body = {**user("Calculate 5 + 3"), "tools": [CALCULATOR]}
    sse = post(gateway, f"/v1beta/models/{model}:streamGenerateContent?alt=sse", body)
    assert sse.status_code == 200 and sse.headers["content-type"].startswith("text/event-stream")
    array = post(gateway, f"/v1beta/models/{model}:streamGenerateContent", body)
    assert array.status_code == 200 and array.headers["content-type"].startswith("application/json")
    for chunks in (sse_chunks(sse.text), array.json()):
        calls = [
            part["functionCall"]
            for chunk in chunks
            for part in chunk["candidates"][0]["content"]["parts"]
            if "functionCall" in part
        ]
        assert len(calls) == 1 and calls[0]["name"] == "calculator"
        assert set(calls[0]["args"]) == {"a", "b", "operation"}
        assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
        assert chunks[-1]["usageMetadata"]["totalTokenCount"] > 0


def test_stream_text_reassembles(gateway: GatewayProcess) -> None:
    reply = post(
        gateway, "/v1beta/models/echo:streamGenerateContent?alt=sse", user("one two three four")
    )
    chunks = sse_chunks(reply.text)
    text = "".join(
        part.get("text", "")
        for chunk in chunks
        for part in chunk["candidates"][0]["content"]["parts"]
    )
    assert text == "one two three four"
    assert len(chunks) >= 4


def test_image_input(gateway: GatewayProcess) -> None:
    body = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "What is this?"},
                    {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                ],
            }
        ]
    }
    for model in ("mock", "gemini-fast"):
        text = post(gateway, f"/v1beta/models/{model}:generateContent", body).json()["candidates"][
            0
        ]["content"]["parts"][0]["text"]
        assert "1 image" in text


def test_count_tokens(gateway: GatewayProcess) -> None:
    short = post(gateway, "/v1beta/models/gemini-fast:countTokens", user("hi"))
    long = post(gateway, "/v1beta/models/gemini-fast:countTokens", user("hi " * 50))
    assert short.status_code == 200
    assert 0 < short.json()["totalTokens"] < long.json()["totalTokens"]
    wrapped = post(
        gateway,
        "/v1beta/models/gemini-fast:countTokens",
        {"generateContentRequest": {"model": "models/gemini-fast", **user("hi")}},
    )
    assert wrapped.json() == short.json()


def test_snake_case_fields_are_accepted(gateway: GatewayProcess) -> None:
    body = {
        "system_instruction": {"parts": [{"text": "Be a cat."}]},
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "generation_config": {"max_output_tokens": 50},
    }
    reply = post(gateway, "/v1beta/models/gemini-fast:generateContent", body)
    assert reply.status_code == 200, reply.text


def test_malformed_upstream_is_a_gateway_error(gateway: GatewayProcess) -> None:
    for action in ("generateContent", "streamGenerateContent?alt=sse", "streamGenerateContent"):
        reply = post(gateway, f"/v1beta/models/gem:malformed:{action}", user("x"))
        assert reply.status_code == 502, (action, reply.text)
        assert reply.json()["error"]["status"] == "UNAVAILABLE"


# --- API version v1, google-genai's default ----------------------------------------------
# The requests below are the exact shape google-genai 3.6 sends with `Client(api_key=...)`
# (recorded from the SDK against a local server): path, headers and body.

GENAI_HEADERS = {
    "x-goog-api-key": KEY,
    "user-agent": "google-genai-sdk/3.6.1 gl-python/3.11.7",
    "x-goog-api-client": "google-genai-sdk/3.6.1 gl-python/3.11.7",
    "content-type": "application/json",
}
GENAI_BODY = {"contents": [{"parts": [{"text": "hello over there"}], "role": "user"}]}


def genai(gateway: GatewayProcess, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, f"{gateway.base_url}{path}", headers=GENAI_HEADERS,
                         timeout=10, **kwargs)


@pytest.mark.parametrize("model", ["echo", "gemini-fast"])
def test_v1_generate_content_as_google_genai_sends_it(gateway: GatewayProcess,
                                                       model: str) -> None:
    reply = genai(gateway, "POST", f"/v1/models/{model}:generateContent", json=GENAI_BODY)
    assert reply.status_code == 200, reply.text
    assert reply.json()["candidates"][0]["content"]["parts"][0]["text"] == "hello over there"
    streamed = genai(gateway, "POST", f"/v1/models/{model}:streamGenerateContent?alt=sse",
                     json=GENAI_BODY)
    assert streamed.status_code == 200, streamed.text
    assert streamed.headers["content-type"].startswith("text/event-stream")
    text = "".join(part.get("text", "") for chunk in sse_chunks(streamed.text)
                   for part in chunk["candidates"][0]["content"]["parts"])
    assert text == "hello over there"
    counted = genai(gateway, "POST", f"/v1/models/{model}:countTokens", json=GENAI_BODY)
    assert counted.status_code == 200 and counted.json()["totalTokens"] > 0


def test_v1_model_list_and_get_answer_google_genai_in_geminis_shape(
    gateway: GatewayProcess,
) -> None:
    listed = genai(gateway, "GET", "/v1/models")
    assert listed.status_code == 200
    names = [model["name"] for model in listed.json()["models"]]
    assert {"models/echo", "models/gemini-fast"} <= set(names)
    one = genai(gateway, "GET", "/v1/models/gemini-fast")
    assert one.status_code == 200 and one.json()["name"] == "models/gemini-fast"
    assert "generateContent" in one.json()["supportedGenerationMethods"]
    missing = genai(gateway, "GET", "/v1/models/no-such-model")
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"


def test_v1_errors_are_in_geminis_shape(gateway: GatewayProcess) -> None:
    unknown = genai(gateway, "POST", "/v1/models/no-such-model:generateContent", json=GENAI_BODY)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["status"] == "NOT_FOUND"
    assert unknown.json()["error"]["code"] == 404
    anonymous = httpx.post(f"{gateway.base_url}/v1/models/echo:generateContent",
                           json=GENAI_BODY, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["status"] == "UNAUTHENTICATED"


def test_v1_model_paths_stay_openais_for_openai_clients(gateway: GatewayProcess) -> None:
    bearer = {"Authorization": f"Bearer {KEY}"}
    listed = httpx.get(f"{gateway.base_url}/v1/models", headers=bearer, timeout=10).json()
    assert listed["object"] == "list" and "models" not in listed
    assert {"id": "echo", "object": "model", "created": 0, "owned_by": "mock"} in listed["data"]
    one = httpx.get(f"{gateway.base_url}/v1/models/echo", headers=bearer, timeout=10)
    assert one.json() == {"id": "echo", "object": "model", "created": 0, "owned_by": "mock"}
    missing = httpx.get(f"{gateway.base_url}/v1/models/nope", headers=bearer, timeout=10)
    assert missing.status_code == 404
    assert set(missing.json()["error"]) == {"message", "type", "param", "code"}
