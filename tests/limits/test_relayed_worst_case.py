"""A relayed call's worst case is counted from its JSON body, without decoding the whole
call: it reserves exactly what a translated call reserves, and a bad body gets the same
400 (422 for audio) before any limit counts it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from relaygate.tokens.estimate import estimate_prompt
from relaygate.translate.openai_chat.request import decode_request
from tests.limits.support import AUTH, config, serve
from tests.support.fake_openai import FakeOpenAI
from tests.support.servers import ThreadedServer

TPM = 1_000_000
BODY: dict[str, Any] = {
    "model": "gpt-4o",
    "max_tokens": 50,
    "messages": [
        {"role": "system", "content": "You are terse.", "name": "rules"},
        {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
        {"role": "user", "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png",
                                                "detail": "low"}}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "look", "arguments": "{\"at\": \"picture\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "a red fox"},
        {"role": "user", "content": "And now?", "name": "ann"},
    ],
    "tools": [{"type": "function", "function": {
        "name": "look", "description": "Look at something.",
        "parameters": {"type": "object", "properties": {
            "at": {"type": "string", "description": "What to look at.",
                   "enum": ["picture", "room"]}}}}}],
}


@pytest.fixture(scope="module")
def gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[bool, str]]:
    """Two gateways on one OpenAI-format upstream: relaying (fast path) and translating."""
    with ThreadedServer(FakeOpenAI().app) as upstream:
        urls: dict[bool, str] = {}
        settings = {
            fast: config(
                tmp_path_factory.mktemp(f"fast-{fast}"), key_limits={"rpm": 2, "tpm": TPM},
                providers={"up": {"type": "openai", "base_url": f"{upstream.base_url}/v1"}},
                models=[{"name": "gpt-4o", "provider": "up"}],
                server={"fast_path": fast},
            )
            for fast in (True, False)
        }
        with serve(settings[True]) as urls[True], serve(settings[False]) as urls[False]:
            yield urls


def _post(url: str, body: Any) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", json=body, headers=AUTH)


def test_a_relayed_call_reserves_what_a_translated_one_does(gateways: dict[bool, str]) -> None:
    relayed, translated = _post(gateways[True], BODY), _post(gateways[False], BODY)
    assert (relayed.status_code, translated.status_code) == (200, 200)
    assert relayed.headers["x-relaygate-served-by"] == translated.headers["x-relaygate-served-by"]
    decoded = decode_request(BODY)
    worst = estimate_prompt(decoded.messages, decoded.tools, "gpt-4o") + 50
    for reply in (relayed, translated):
        assert reply.headers["x-ratelimit-remaining-tokens"] == str(TPM - worst)
        assert reply.headers["x-ratelimit-limit-tokens"] == str(TPM)


@pytest.mark.parametrize("body", [
    {"model": "gpt-4o", "messages": []},
    {"model": "gpt-4o", "messages": [{"role": "user"}]},
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "temperature": 5},
    {"model": "gpt-4o", "messages": [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}]}]},
])
def test_a_bad_body_is_refused_alike_before_a_limit_counts_it(
    gateways: dict[bool, str], body: dict[str, Any]
) -> None:
    relayed, translated = _post(gateways[True], body), _post(gateways[False], body)
    assert relayed.status_code == translated.status_code
    assert relayed.status_code == (422 if "input_audio" in str(body) else 400)  # unsupported
    assert relayed.json() == translated.json()
    assert "x-ratelimit-remaining-requests" not in relayed.headers


def test_a_tool_schema_the_counter_cannot_read_is_still_answered(
    gateways: dict[bool, str],
) -> None:
    """JSON Schema allows `properties: true` and any `enum`: counted as no properties, not a 500."""
    tool = {"type": "function", "function": {
        "name": "odd", "parameters": {"type": "object", "properties": True}}}
    enum = {"type": "function", "function": {
        "name": "odder", "parameters": {"type": "object", "properties": {
            "x": {"type": "string", "enum": "not a list"}}}}}
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
            "tools": [tool, enum]}
    reply = _post(gateways[True], body)
    assert reply.status_code == 200, reply.text
    assert int(reply.headers["x-ratelimit-remaining-tokens"]) < TPM
