"""One ledger row per upstream call, with the call's fields, on SQLite and PostgreSQL: a
relayed chat call, a streamed one, a translated one (Messages → an OpenAI upstream), a
failed one; the cost from the built-in price table, None for a model with no price, 0 for
the (free) mock."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import pytest
from sqlalchemy import select

from relaygate.store.db import Database
from relaygate.store.usage_ledger import UsageLedgerRow
from tests.ledger.conftest import KEY_A, KEY_B, gateway_config
from tests.support.in_process import InProcess, in_process

GPT_4O_MINI = (0.15, 0.60)  # $ per million input / output tokens, the published list price


def _headers(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def _chat(model: str, text: str = "count these words", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


async def _rows(url: str) -> list[UsageLedgerRow]:
    database = Database(url)
    try:
        async with database.session() as session:
            return list(await session.scalars(select(UsageLedgerRow).order_by(UsageLedgerRow.id)))
    finally:
        await database.close()


async def _calls(gateway: InProcess) -> dict[str, Any]:
    """Make the calls; what each client saw, by name."""
    client, seen = gateway.client, {}
    reply = await client.post("/v1/chat/completions", json=_chat("gpt-4o-mini"),
                              headers=_headers(KEY_A))
    assert reply.status_code == 200, reply.text
    seen["relayed"] = (reply.headers["x-request-id"], reply.json()["usage"])
    body = _chat("gpt-4o-mini", "a streamed one", stream=True,
                 stream_options={"include_usage": True})
    reply = await client.post("/v1/chat/completions", json=body, headers=_headers(KEY_A))
    chunks = [json.loads(line[6:]) for line in reply.text.splitlines()
              if line.startswith("data: {")]
    seen["streamed"] = (reply.headers["x-request-id"], chunks[-1]["usage"])
    body = {"model": "gpt-4o-mini", "max_tokens": 50,
            "messages": [{"role": "user", "content": "translated please"}]}
    reply = await client.post("/v1/messages", json=body, headers=_headers(KEY_B))
    assert reply.status_code == 200, reply.text
    seen["translated"] = (reply.headers["x-request-id"], reply.json()["usage"])
    reply = await client.post("/v1/chat/completions", json=_chat("mystery"),
                              headers=_headers(KEY_B))
    assert reply.status_code == 200, reply.text
    seen["unpriced"] = (reply.headers["x-request-id"], reply.json()["usage"])
    reply = await client.post("/v1/chat/completions", json=_chat("echo"), headers=_headers(KEY_A))
    seen["free"] = (reply.headers["x-request-id"], reply.json()["usage"])
    reply = await client.post("/v1/chat/completions", json=_chat("broken"),
                              headers=_headers(KEY_A))
    assert reply.status_code == 503
    seen["failed"] = (reply.headers["x-request-id"], None)
    return seen


def _cost(input_tokens: int, output_tokens: int) -> float:
    return (input_tokens * GPT_4O_MINI[0] + output_tokens * GPT_4O_MINI[1]) / 1_000_000


async def test_one_row_per_upstream_call(database: str, upstream: str) -> None:
    started = time.time()
    async with in_process(gateway_config(database, upstream)) as gateway:
        seen = await _calls(gateway)
        assert gateway.gateway.ledger is not None
        assert gateway.gateway.ledger.queued == len(seen)  # nothing written on the request path
        assert await gateway.gateway.ledger.flush() == len(seen)
    rows = {row.request_id: row for row in await _rows(database)}
    assert set(rows) == {request_id for request_id, _ in seen.values()}  # one row each

    key_a = hashlib.sha256(KEY_A.encode()).hexdigest()[:12]
    relayed_id, usage = seen["relayed"]
    row = rows[relayed_id]
    assert (row.tenant, row.key_id, row.key_name) == ("acme", key_a, "alice")
    assert (row.endpoint, row.model, row.provider, row.upstream_model) == (
        "chat.completions", "gpt-4o-mini", "oai", "gpt-4o-mini")
    assert (row.input_tokens, row.output_tokens) == (usage["prompt_tokens"],
                                                     usage["completion_tokens"])
    assert row.cost_usd == pytest.approx(_cost(usage["prompt_tokens"], usage["completion_tokens"]))
    assert (row.status, row.error, row.stream, row.cache_hit) == (200, None, False, False)
    assert started <= row.at <= time.time() and row.day == time.strftime("%Y-%m-%d", time.gmtime())
    assert row.latency_ms > 0 and row.ttft_ms is None

    streamed_id, usage = seen["streamed"]
    row = rows[streamed_id]
    assert row.stream and row.ttft_ms is not None and 0 < row.ttft_ms <= row.latency_ms
    assert (row.input_tokens, row.output_tokens) == (usage["prompt_tokens"],
                                                     usage["completion_tokens"])
    assert row.cost_usd == pytest.approx(_cost(usage["prompt_tokens"], usage["completion_tokens"]))

    translated_id, usage = seen["translated"]
    row = rows[translated_id]
    assert (row.tenant, row.key_name, row.endpoint, row.provider) == (
        "beta", "bob", "messages", "oai")
    assert (row.input_tokens, row.output_tokens) == (usage["input_tokens"], usage["output_tokens"])
    assert row.cost_usd == pytest.approx(_cost(usage["input_tokens"], usage["output_tokens"]))

    row = rows[seen["unpriced"][0]]
    assert row.upstream_model == "mystery-model" and row.input_tokens > 0
    assert row.cost_usd is None  # no price known: never a made-up 0

    row = rows[seen["free"][0]]
    assert row.provider == "mock" and row.cost_usd == 0.0  # the mock is free: a known price

    row = rows[seen["failed"][0]]
    assert (row.status, row.upstream_model) == (503, "fail-503") and row.error
