"""`POST /v1/embeddings` with the official openai SDK: relayed to an OpenAI-compatible
upstream (bytes, the client's model name, usage from the reply), Gemini's embedContent /
batchEmbedContents, the mock (deterministic, similar texts close); errors in OpenAI's
format; a token limit; one ledger row per call with its usage and cost."""

from __future__ import annotations

import math
import time

import httpx
import openai
import pytest

from tests.media.conftest import BUDGET_KEY, KEY, TIGHT_KEY, Media


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_mock_is_deterministic_and_similar_texts_are_close(media: Media) -> None:
    client = media.client()
    texts = ["the cat sat on the mat", "the cat sat on a mat", "quarterly tax filing rules"]
    first = client.embeddings.create(model="mock-embed", input=texts)  # SDK default: base64
    again = client.embeddings.create(model="mock-embed", input=texts, encoding_format="float")
    vectors = [item.embedding for item in first.data]
    assert [len(vector) for vector in vectors] == [256, 256, 256]
    for ours, floats in zip(vectors, (item.embedding for item in again.data), strict=True):
        assert ours == pytest.approx(floats, abs=1e-6)  # base64 float32 == floats
    assert _cosine(vectors[0], vectors[1]) > 0.8 > 0.3 > _cosine(vectors[0], vectors[2])
    assert first.model == "mock-embed"
    assert first.usage.prompt_tokens == first.usage.total_tokens > 0
    short = client.embeddings.create(model="mock-embed", input=[[1, 2, 3], [1, 2, 4]],
                                     dimensions=32)
    assert [len(item.embedding) for item in short.data] == [32, 32]
    assert short.usage.prompt_tokens == 6
    single = client.embeddings.create(model="mock-embed", input=[1, 2, 3])  # one token array
    assert len(single.data) == 1 and single.usage.prompt_tokens == 3
    assert single.data[0].embedding == pytest.approx(
        client.embeddings.create(model="mock-embed", input=[[1, 2, 3]]).data[0].embedding)


def test_relayed_to_openai_compatible_upstream(media: Media) -> None:
    client = media.client()
    raw = client.embeddings.with_raw_response.create(
        model="my-embedder", input=["alpha beta", "gamma"], dimensions=12)
    reply = raw.parse()
    assert raw.headers["x-relaygate-served-by"] == "oai/text-embedding-3-small"
    assert raw.headers["x-relaygate-usage-source"] == "upstream"
    assert reply.model == "my-embedder"  # the client's name, not the upstream's
    assert [len(item.embedding) for item in reply.data] == [12, 12]
    assert reply.usage.prompt_tokens == 3  # the fake's count, read from the relayed bytes
    sent = media.openai_fake.requests[-1]
    assert sent["model"] == "text-embedding-3-small" and sent["encoding_format"] == "base64"
    rows = media.rows(raw.headers["x-request-id"])
    assert len(rows) == 1
    row = rows[0]
    assert (row["endpoint"], row["tenant"], row["provider"], row["input_tokens"],
            row["output_tokens"], row["status"]) == ("embeddings", "acme", "oai", 3, 0, 200)
    assert row["cost_usd"] == pytest.approx(3 * 0.02 / 1_000_000)
    floats = client.embeddings.create(model="text-embedding-3-small", input="one",
                                      encoding_format="float")
    assert len(floats.data[0].embedding) == 8


def test_upstream_without_usage_is_counted_by_us(media: Media) -> None:
    raw = media.client().embeddings.with_raw_response.create(model="no-usage",
                                                             input="four words of text")
    assert raw.headers["x-relaygate-usage-source"] == "estimated"
    assert media.rows(raw.headers["x-request-id"])[0]["input_tokens"] == 4


def test_gemini_embed_and_batch(media: Media) -> None:
    client = media.client()
    one = client.embeddings.create(model="gemini-embedding-001", input="hello world",
                                   dimensions=16, encoding_format="float")
    assert len(one.data[0].embedding) == 16 and one.model == "gemini-embedding-001"
    assert media.gemini_fake.paths[-1].endswith("gemini-embedding-001:embedContent")
    assert media.gemini_fake.requests[-1] == {
        "content": {"parts": [{"text": "hello world"}]}, "outputDimensionality": 16}
    many = client.embeddings.create(model="gemini-embedding-001", input=["a", "b", "c"])
    assert [item.index for item in many.data] == [0, 1, 2]
    assert [len(item.embedding) for item in many.data] == [768] * 3
    assert media.gemini_fake.paths[-1].endswith(":batchEmbedContents")
    assert media.gemini_fake.headers[-1]["x-goog-api-key"] == "gemini-secret"
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="gemini-embedding-001", input=[1, 2, 3])
    assert caught.value.body["param"] == "input"  # type: ignore[index]
    assert "token arrays" in caught.value.message


def test_errors_in_openai_format(media: Media) -> None:
    client = media.client()
    cases = [
        ({"model": "mock-embed"}, 400, "input"),
        ({"model": "mock-embed", "input": ""}, 400, "input"),
        ({"model": "mock-embed", "input": ["ok", 3]}, 400, "input"),
        ({"model": "mock-embed", "input": "x", "encoding_format": "int8"}, 400,
         "encoding_format"),
        ({"model": "mock-embed", "input": "x", "dimensions": 0}, 400, "dimensions"),
        ({"model": "claude-embed", "input": "x"}, 400, "model"),
        ({"model": "nope", "input": "x"}, 404, "model"),
    ]
    for body, status, param in cases:
        reply = httpx.post(f"{media.base_url}/v1/embeddings", json=body,
                           headers={"authorization": f"Bearer {KEY}"})
        assert reply.status_code == status, (body, reply.text)
        error = reply.json()["error"]
        assert error["param"] == param and error["message"] and error["type"], error
    with pytest.raises(openai.InternalServerError):
        client.embeddings.create(model="broken-embedder", input="x")
    with pytest.raises(openai.AuthenticationError):
        media.client("sk-wrong").embeddings.create(model="mock-embed", input="x")


def test_token_limit_applies(media: Media) -> None:
    client = media.client(TIGHT_KEY)
    long_text = " ".join(["word"] * 15)
    client.embeddings.create(model="mock-embed", input=long_text)
    with pytest.raises(openai.RateLimitError) as caught:
        client.embeddings.create(model="mock-embed", input=long_text)
    assert caught.value.response.headers["x-ratelimit-limit-tokens"] == "20"


def test_a_routed_group_fails_over(media: Media) -> None:
    raw = media.client().embeddings.with_raw_response.create(model="grouped-embed",
                                                             input="fail over please")
    assert raw.parse().model == "grouped-embed" and len(raw.parse().data[0].embedding) == 256
    assert raw.headers["x-relaygate-served-by"] == "mock/mock-embed"
    rows = media.rows(raw.headers["x-request-id"])
    deadline = time.monotonic() + 5
    while len(rows) < 2 and time.monotonic() < deadline:
        rows = media.rows(raw.headers["x-request-id"])
    assert sorted((row["provider"], row["status"]) for row in rows) == [
        ("mock", 200), ("oai", 503)]


def test_budget_applies(media: Media) -> None:
    client = media.client(BUDGET_KEY)
    client.embeddings.create(model="mock-embed", input="five words fit the budget")
    with pytest.raises(openai.RateLimitError) as caught:
        client.embeddings.create(model="mock-embed", input=" ".join(["word"] * 10))
    assert caught.value.code == "budget_exceeded"
