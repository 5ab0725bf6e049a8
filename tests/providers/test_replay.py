"""The replay provider end to end: record through the chat front (relayed bytes, a stream
with its timing, embeddings, images), then a gateway in replay mode whose upstream is gone
answers byte for byte, an Anthropic client through translation from the same cassette,
and an unknown request with the closest cassette and what differs; secrets stripped."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

from relaygate.store.schema import upgrade
from tests.support.fake_gemini import FakeGemini
from tests.support.fake_openai import FakeOpenAI
from tests.support.routing_gateway import in_process_gateway
from tests.support.servers import ThreadedServer

SECRET = "sk-upstream-secret-0123456789"


def _config(upstream: str, cassettes: Path, mode: str, **replay: Any) -> dict[str, Any]:
    database = f"sqlite+aiosqlite:///{cassettes.parent / 'replay.db'}"
    asyncio.run(upgrade(database))  # the Responses front keeps its runs there
    return {
        "storage": {"database_url": database},
        "ledger": {"enabled": False},
        "providers": {
            "real": {"type": "openai", "base_url": upstream, "api_key": SECRET},
            "mock": {"type": "mock", "stream_delay_ms": 40},
            "tape": {"type": "replay", "of": "real", "mode": mode, "dir": str(cassettes),
                     **replay},
            "mock-tape": {"type": "replay", "of": "mock", "mode": mode,
                          "dir": str(cassettes / "mock"), **replay},
        },
        "models": [
            {"name": "gpt-4o-mini", "provider": "tape"},
            {"name": "echo", "provider": "mock-tape"},
            {"name": "embedder", "provider": "mock-tape"},
            {"name": "painter", "provider": "mock-tape"},
        ],
    }


def _chat(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key="k", max_retries=0, timeout=20)


HELLO = [{"role": "user", "content": "hello there"}]


def _record(base: str) -> dict[str, Any]:
    client, seen = _chat(base), {}
    raw = httpx.post(f"{base}/v1/chat/completions",
                     json={"model": "gpt-4o-mini", "messages": HELLO, "max_tokens": 64})
    seen["whole"] = raw.content
    with httpx.stream("POST", f"{base}/v1/chat/completions",
                      json={"model": "gpt-4o-mini", "messages": HELLO, "stream": True}) as reply:
        seen["stream"] = b"".join(reply.iter_bytes())
    seen["vectors"] = [item.embedding for item in client.embeddings.create(
        model="embedder", input=["a cat", "a dog"]).data]
    seen["image"] = client.images.generate(model="painter", prompt="a boat",
                                           response_format="b64_json").data[0].b64_json  # type: ignore[index]
    return seen


def test_record_then_replay(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    with ThreadedServer(FakeOpenAI().app) as upstream:
        config = _config(f"{upstream.base_url}/v1", cassettes, "record")
        with in_process_gateway(tmp_path, config) as gateway:
            recorded = _record(gateway.base_url)
    files = sorted(path.name for path in cassettes.rglob("*.json"))
    assert [name.split("-")[0] for name in files] == ["chat", "chat", "embeddings", "images"]
    text = "".join(path.read_text() for path in cassettes.rglob("*.json"))
    assert SECRET not in text

    config = _config("http://127.0.0.1:9/v1", cassettes, "replay", timing="fast")
    with in_process_gateway(tmp_path, config) as gateway:
        base = gateway.base_url
        whole = httpx.post(f"{base}/v1/chat/completions",
                           json={"model": "gpt-4o-mini", "messages": HELLO, "max_tokens": 64})
        assert whole.content == recorded["whole"]  # byte for byte
        with httpx.stream("POST", f"{base}/v1/chat/completions",
                          json={"model": "gpt-4o-mini", "messages": HELLO,
                                "stream": True}) as reply:
            assert b"".join(reply.iter_bytes()) == recorded["stream"]  # chunk for chunk
        client = _chat(base)
        vectors = [item.embedding for item in client.embeddings.create(
            model="embedder", input=["a cat", "a dog"]).data]
        assert vectors == recorded["vectors"]
        image = client.images.generate(model="painter", prompt="a boat",
                                       response_format="b64_json").data[0].b64_json  # type: ignore[index]
        assert image == recorded["image"]

        # the same exchange, asked by an Anthropic client: translated from the cassette
        claude = anthropic.Anthropic(base_url=base, api_key="k", max_retries=0)
        message = claude.messages.create(model="gpt-4o-mini", max_tokens=64,
                                         messages=[{"role": "user", "content": "hello there"}])
        assert message.content[0].text == _chat_text(recorded["whole"])  # type: ignore[union-attr]

        # and by a Responses client (through the same canonical call)
        response = client.responses.create(model="gpt-4o-mini", input="hello there",
                                           max_output_tokens=64, store=False)
        assert response.output_text == _chat_text(recorded["whole"])

        with pytest.raises(openai.NotFoundError) as caught:
            client.chat.completions.create(model="gpt-4o-mini", max_tokens=64,
                                           messages=[{"role": "user", "content": "hello here"}])
        message_text = caught.value.message
        assert "Closest: chat-" in message_text
        assert "'hello there', now 'hello here'" in message_text
        assert caught.value.code == "cassette_not_found"


def _chat_text(body: bytes) -> str:
    import json
    return str(json.loads(body)["choices"][0]["message"]["content"])


def _timed_stream(client: openai.OpenAI, text: str) -> tuple[list[str], float]:
    started = time.perf_counter()
    stream = client.chat.completions.create(
        model="echo", stream=True, messages=[{"role": "user", "content": text}])
    words = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
    return words, time.perf_counter() - started


def test_auto_records_what_is_missing_and_replays_with_recorded_timing(tmp_path: Path) -> None:
    cassettes = tmp_path / "auto"
    text = "one two three four five six"
    config = _config("http://127.0.0.1:9/v1", cassettes, "auto")
    with in_process_gateway(tmp_path, config) as gateway:
        client = _chat(gateway.base_url)
        words, live = _timed_stream(client, text)  # recorded: the mock waits 40 ms a word
        assert len(list((cassettes / "mock").glob("chat-*.json"))) == 1
        again, replayed = _timed_stream(client, text)  # from the cassette, paced as recorded
        assert again == words and "".join(words) == text
        assert replayed > 0.6 * live and live > 0.2
        assert len(list((cassettes / "mock").glob("chat-*.json"))) == 1
    fast = _config("http://127.0.0.1:9/v1", cassettes, "replay", timing="fast")
    with in_process_gateway(tmp_path, fast) as gateway:
        quick, hurried = _timed_stream(_chat(gateway.base_url), text)  # as fast as it can
    assert quick == words and hurried < 0.5 * live


def test_a_gemini_provider_recorded_through_its_own_front(tmp_path: Path) -> None:
    cassettes = tmp_path / "gemini"
    database = f"sqlite+aiosqlite:///{tmp_path / 'gemini.db'}"

    def config(base_url: str, mode: str) -> dict[str, Any]:
        return {
            "storage": {"database_url": database}, "ledger": {"enabled": False},
            "providers": {
                "gem": {"type": "gemini", "base_url": base_url, "api_key": "gemini-secret-key"},
                "tape": {"type": "replay", "of": "gem", "mode": mode, "dir": str(cassettes)},
            },
            "models": [{"name": "gemini-2.5-flash", "provider": "tape"}],
        }

    body = {"contents": [{"role": "user", "parts": [{"text": "hi gemini"}]}]}
    path = "/v1beta/models/gemini-2.5-flash:generateContent"
    with ThreadedServer(FakeGemini(api_key="gemini-secret-key").app) as upstream:
        with in_process_gateway(tmp_path, config(f"{upstream.base_url}/v1beta",
                                                 "record")) as gateway:
            live = httpx.post(gateway.base_url + path, json=body).json()
    text = live["candidates"][0]["content"]["parts"][0]["text"]
    assert "gemini-secret-key" not in "".join(p.read_text() for p in cassettes.glob("*.json"))
    with in_process_gateway(tmp_path, config("http://127.0.0.1:9/v1beta", "replay")) as gateway:
        again = httpx.post(gateway.base_url + path, json=body).json()
        assert again["candidates"][0]["content"]["parts"][0]["text"] == text
        chat = _chat(gateway.base_url).chat.completions.create(
            model="gemini-2.5-flash", messages=[{"role": "user", "content": "hi gemini"}])
        assert chat.choices[0].message.content == text  # another front, the same cassette
