"""The exact response cache through the official SDKs on each front (real ports): a repeat
is answered without the upstream, streamed or whole, and only inside its tenant."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import orjson
import pytest

from tests.cache.conftest import Upstreams
from tests.cache.conftest import cache_gateway as in_process_gateway

ACME = "sk-acme-0123456789"
GLOBEX = "sk-globex-0123456"
ASK = [{"role": "user", "content": "What is the capital of France?"}]


def sdk(base_url: str, key: str = ACME) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0, timeout=20)


def ask(client: openai.OpenAI, headers: dict[str, str] | None = None,
        **body: Any) -> tuple[str, str | None]:
    """(the answer's text, the x-relaygate-cache header)."""
    body = {"model": "gpt", "messages": ASK, "temperature": 0, **body}
    reply = client.chat.completions.with_raw_response.create(**body, extra_headers=headers)
    text = reply.parse().choices[0].message.content or ""
    return text, reply.headers.get("x-relaygate-cache")


def test_a_repeat_is_answered_from_the_cache_with_the_same_answer(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    with in_process_gateway(tmp_path, upstreams.config()) as gateway:
        client = sdk(gateway.base_url)
        before = upstreams.sent()
        first = ask(client)
        second = ask(client)
        assert first == (first[0], "miss") and first[0]
        assert second == (first[0], "hit")
        assert upstreams.sent() - before == 1


def test_key_order_and_whitespace_do_not_matter_but_a_parameter_does(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    with in_process_gateway(tmp_path, upstreams.config()) as gateway:
        url = f"{gateway.base_url}/v1/chat/completions"
        headers = {"Authorization": f"Bearer {ACME}", "Content-Type": "application/json"}
        compact = b'{"model":"gpt","temperature":0,"messages":[{"role":"user","content":"hi"}]}'
        spaced = (b'{ "messages" : [ { "content" : "hi" , "role" : "user" } ] ,\n'
                  b'  "temperature" : 0 , "model" : "gpt" }')
        assert httpx.post(url, content=compact, headers=headers).headers["x-relaygate-cache"] \
            == "miss"
        assert httpx.post(url, content=spaced, headers=headers).headers["x-relaygate-cache"] \
            == "hit"
        other = orjson.dumps({"model": "gpt", "temperature": 0, "max_tokens": 5,
                              "messages": [{"role": "user", "content": "hi"}]})
        assert httpx.post(url, content=other, headers=headers).headers["x-relaygate-cache"] \
            == "miss"


def test_only_deterministic_calls_are_cached_unless_mode_is_all(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    with in_process_gateway(tmp_path, upstreams.config()) as gateway:
        client = sdk(gateway.base_url)
        before = upstreams.sent()
        assert ask(client, temperature=0.7)[1] is None  # not looked up at all
        assert ask(client, temperature=0.7)[1] is None
        assert ask(client, temperature=0.7, seed=7)[1] == "miss"  # a fixed seed is cached
        assert ask(client, temperature=0.7, seed=7)[1] == "hit"
        assert upstreams.sent() - before == 3
    with in_process_gateway(tmp_path, upstreams.config({"mode": "all"})) as gateway:
        client = sdk(gateway.base_url)
        assert ask(client, temperature=0.7)[1] == "miss"
        assert ask(client, temperature=0.7)[1] == "hit"


def test_a_stream_is_kept_when_it_completes_and_replayed_to_the_sdk_stream_helper(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    with in_process_gateway(tmp_path, upstreams.config()) as gateway:
        client = sdk(gateway.base_url)
        before = upstreams.sent()
        finals = []
        for _ in range(2):
            with client.chat.completions.stream(
                model="gpt", messages=ASK, temperature=0,  # type: ignore[arg-type]
                stream_options={"include_usage": True},
            ) as stream:
                finals.append(stream.get_final_completion())
        assert upstreams.sent() - before == 1
        assert finals[0].choices[0].message.content == finals[1].choices[0].message.content
        assert finals[1].usage is not None and finals[1].usage.total_tokens > 0
        assert finals[1].model == "gpt"
        # the whole answer of the same question comes from the streamed one
        assert ask(client) == (finals[0].choices[0].message.content, "hit")
        assert upstreams.sent() - before == 1


def test_a_whole_answer_is_replayed_as_a_stream(tmp_path: Path, upstreams: Upstreams) -> None:
    with in_process_gateway(tmp_path, upstreams.config()) as gateway:
        client = sdk(gateway.base_url)
        text, _ = ask(client, messages=[{"role": "user", "content": "stream it later"}])
        before = upstreams.sent()
        raw = client.chat.completions.with_raw_response.create(
            model="gpt", messages=[{"role": "user", "content": "stream it later"}],
            temperature=0, stream=True,
        )
        assert raw.headers["x-relaygate-cache"] == "hit"
        chunks = list(raw.parse())
        assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks
                       if chunk.choices) == text
        assert upstreams.sent() == before


def test_anthropic_sdk_whole_and_streamed(tmp_path: Path, upstreams: Upstreams) -> None:
    with in_process_gateway(tmp_path, upstreams.config()) as gateway:
        client = anthropic.Anthropic(base_url=gateway.base_url, api_key=ACME, max_retries=0)
        before = upstreams.sent()
        body: dict[str, Any] = {"model": "claude", "max_tokens": 50,
                                "extra_body": {"temperature": 0},  # not in this SDK's signature
                                "messages": [{"role": "user", "content": "Name a colour."}]}
        first = client.messages.with_raw_response.create(**body)
        second = client.messages.with_raw_response.create(**body)
        assert (first.headers["x-relaygate-cache"], second.headers["x-relaygate-cache"]) == (
            "miss", "hit")
        assert second.parse().content[0].text == first.parse().content[0].text  # type: ignore[union-attr]
        with client.messages.stream(**body) as stream:
            final = stream.get_final_message()
        assert final.content[0].text == first.parse().content[0].text  # type: ignore[union-attr]
        assert final.usage.output_tokens > 0
        assert upstreams.sent() - before == 1


def test_gemini_front(tmp_path: Path, upstreams: Upstreams) -> None:
    with in_process_gateway(tmp_path, upstreams.config()) as gateway:
        url = f"{gateway.base_url}/v1beta/models/gemini:generateContent"
        body = {"contents": [{"role": "user", "parts": [{"text": "Say hi."}]}],
                "generationConfig": {"temperature": 0}}
        headers = {"x-goog-api-key": ACME}
        before = upstreams.sent()
        first = httpx.post(url, json=body, headers=headers)
        second = httpx.post(url, json=body, headers=headers)
        assert first.status_code == second.status_code == 200
        assert second.headers["x-relaygate-cache"] == "hit"
        text = first.json()["candidates"][0]["content"]["parts"][0]["text"]
        assert second.json()["candidates"][0]["content"]["parts"][0]["text"] == text
        streamed = httpx.post(
            f"{gateway.base_url}/v1beta/models/gemini:streamGenerateContent?alt=sse",
            json=body, headers=headers)
        assert streamed.headers["x-relaygate-cache"] == "hit"
        assert text in streamed.text
        assert upstreams.sent() - before == 1


def test_tenants_never_share_entries_unless_they_name_one_namespace(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    with in_process_gateway(tmp_path, upstreams.config()) as gateway:
        assert ask(sdk(gateway.base_url, ACME))[1] == "miss"
        assert ask(sdk(gateway.base_url, "sk-acme-other-0123"))[1] == "hit"  # same tenant
        assert ask(sdk(gateway.base_url, GLOBEX))[1] == "miss"  # another tenant
    shared = {"tenants": {"initech": {"namespace": "public"}, "hooli": {"namespace": "public"}}}
    with in_process_gateway(tmp_path, upstreams.config(shared)) as gateway:
        assert ask(sdk(gateway.base_url, "sk-initech-012345"))[1] == "miss"
        assert ask(sdk(gateway.base_url, "sk-hooli-01234567"))[1] == "hit"
        assert ask(sdk(gateway.base_url, ACME))[1] == "miss"


def test_entries_expire_after_their_ttl(tmp_path: Path, upstreams: Upstreams) -> None:
    with in_process_gateway(tmp_path, upstreams.config()) as gateway:
        client = sdk(gateway.base_url)
        assert ask(client, {"x-relaygate-cache-ttl": "0.4"})[1] == "miss"
        assert ask(client)[1] == "hit"
        time.sleep(0.6)
        assert ask(client)[1] == "miss"
    rule = {"models": {"gpt": {"ttl_seconds": 0.4}}}
    with in_process_gateway(tmp_path, upstreams.config(rule)) as gateway:
        client = sdk(gateway.base_url)
        assert ask(client)[1] == "miss"
        time.sleep(0.6)
        assert ask(client)[1] == "miss"


def test_no_cache_no_store_and_off(tmp_path: Path, upstreams: Upstreams) -> None:
    with in_process_gateway(tmp_path, upstreams.config()) as gateway:
        client = sdk(gateway.base_url)
        before = upstreams.sent()
        assert ask(client, {"Cache-Control": "no-store"})[1] == "miss"
        assert ask(client, {"Cache-Control": "no-cache"})[1] == "miss"  # looked up? no; kept
        assert ask(client)[1] == "hit"
        assert ask(client, {"Cache-Control": "no-cache"})[1] == "miss"  # the upstream again
        assert ask(client, {"x-relaygate-cache": "off"})[1] is None
        assert upstreams.sent() - before == 4


def test_errors_are_not_kept(tmp_path: Path, upstreams: Upstreams) -> None:
    config = upstreams.config()
    config["models"].append({"name": "broken", "provider": "oai", "model": "fail-500"})
    with in_process_gateway(tmp_path, config) as gateway:
        client = sdk(gateway.base_url)
        before = upstreams.sent()
        for _ in range(2):
            with pytest.raises(openai.InternalServerError):
                ask(client, model="broken")
        assert upstreams.sent() - before == 2


def test_an_answer_cut_by_max_tokens_is_not_kept(tmp_path: Path, upstreams: Upstreams) -> None:
    with in_process_gateway(tmp_path, upstreams.config()) as gateway:
        client = sdk(gateway.base_url)
        words = [{"role": "user", "content": "one two three four five six seven"}]
        assert [ask(client, messages=words, max_tokens=2)[1] for _ in range(2)] == [
            "miss", "miss"]


def test_a_model_or_key_rule_turns_it_off(tmp_path: Path, upstreams: Upstreams) -> None:
    rules = {"models": {"gpt": {"enabled": False}}, "keys": {"globex-key": {"enabled": True}}}
    with in_process_gateway(tmp_path, upstreams.config(rules)) as gateway:
        assert ask(sdk(gateway.base_url))[1] is None
        assert ask(sdk(gateway.base_url, GLOBEX))[1] == "miss"  # the key's rule wins
        assert ask(sdk(gateway.base_url, GLOBEX))[1] == "hit"


def test_embeddings_are_cached(tmp_path: Path, upstreams: Upstreams) -> None:
    with in_process_gateway(tmp_path, upstreams.config()) as gateway:
        client = sdk(gateway.base_url)
        before = len(upstreams.media.requests)
        first = client.embeddings.with_raw_response.create(model="embed", input=["a", "b"])
        second = client.embeddings.with_raw_response.create(model="embed", input=["a", "b"])
        assert second.headers["x-relaygate-cache"] == "hit"
        assert second.parse().data[1].embedding == first.parse().data[1].embedding
        assert len(upstreams.media.requests) - before == 1
        other = client.embeddings.with_raw_response.create(model="embed", input=["a", "c"])
        assert other.headers["x-relaygate-cache"] == "miss"


def test_responses_without_background_are_cached(tmp_path: Path, upstreams: Upstreams) -> None:
    with in_process_gateway(tmp_path, upstreams.config()) as gateway:
        client = sdk(gateway.base_url)
        before = upstreams.sent()
        texts = []
        for _ in range(2):
            reply = client.responses.with_raw_response.create(
                model="gpt", input="Spell 'cat'.", temperature=0, store=False)
            texts.append((reply.parse().output_text, reply.headers["x-relaygate-cache"]))
        assert texts[1] == (texts[0][0], "hit")
        assert upstreams.sent() - before == 1


def test_responses_over_websocket_are_cached(tmp_path: Path, upstreams: Upstreams) -> None:
    from websockets.sync.client import connect

    with in_process_gateway(tmp_path, upstreams.config()) as gateway:
        url = gateway.base_url.replace("http://", "ws://") + "/v1/responses"
        before = upstreams.sent()
        texts = []
        with connect(url, additional_headers={"Authorization": f"Bearer {ACME}"},
                     open_timeout=5) as ws:
            for _ in range(2):
                ws.send(orjson.dumps({"type": "response.create", "model": "gpt", "store": False,
                                      "temperature": 0, "input": "Spell 'dog'."}).decode())
                while True:
                    event = orjson.loads(ws.recv(timeout=10))
                    if event["type"] in ("response.completed", "response.failed", "error"):
                        break
                assert event["type"] == "response.completed", event
                output = event["response"]["output"]
                texts.append(output[0]["content"][0]["text"])
        assert texts[0] and texts[1] == texts[0]
        assert upstreams.sent() - before == 1  # the second turn came from the cache
