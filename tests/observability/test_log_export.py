"""Log export: the request log line (with trace ids) and payload records, batched to a
webhook, or as OTLP/HTTP logs through the real exporter; payloads are off by default."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.in_process import in_process
from tests.support.otlp_receiver import OtlpReceiver, traces_config
from tests.support.servers import ThreadedServer

MOCK = {"providers": {"mock": {"type": "mock"}},
        "models": [{"name": "mock", "provider": "mock"}], "ledger": {"enabled": False}}
CHAT = {"model": "mock", "messages": [{"role": "user", "content": "hello there"}]}


class Webhook:
    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.app = Starlette(routes=[Route("/ingest", self.ingest, methods=["POST"])])

    async def ingest(self, request: Request) -> Response:
        body = await request.json()
        assert request.headers["x-ingest-key"] == "secret-ingest"
        with self.lock:
            self.batches.append(body["records"])
        return Response(status_code=204)

    async def records(self, count: int, wait: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + wait
        while True:
            with self.lock:
                found = [record for batch in self.batches for record in batch]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.02)  # the gateway's export task runs on this loop


@pytest.fixture(scope="module")
def collector() -> Iterator[tuple[OtlpReceiver, ThreadedServer]]:
    receiver = OtlpReceiver()
    with ThreadedServer(receiver.app) as server:
        yield receiver, server


async def test_request_lines_and_payloads_go_to_the_webhook_in_batches() -> None:
    webhook = Webhook()
    with ThreadedServer(webhook.app) as server:
        logs = {"exporter": "webhook", "endpoint": f"{server.base_url}/ingest",
                "headers": {"x-ingest-key": "secret-ingest"}, "payloads": True,
                "batch_records": 4, "flush_interval_ms": 50}
        async with in_process({**MOCK, "telemetry": {"logs": logs}}) as gateway:
            for _ in range(3):
                reply = await gateway.client.post("/v1/chat/completions", json=CHAT)
                assert reply.status_code == 200
            records = await webhook.records(6)
    kinds = [record["event"] for record in records]
    assert kinds.count("request") == 3 and kinds.count("payload") == 3
    assert len(webhook.batches) >= 2  # batched: at most 4 records a POST
    assert all(len(batch) <= 4 for batch in webhook.batches)
    request = next(record for record in records if record["event"] == "request")
    assert request["path"] == "/v1/chat/completions" and request["status"] == 200
    payload = next(record for record in records if record["event"] == "payload")
    assert "hello there" in payload["input"] and payload["output"]
    assert payload["tenant"] == "default"


async def test_a_stuck_webhook_never_slows_a_request_and_its_queue_stays_bounded() -> None:
    stuck = threading.Event()

    async def hang(request: Request) -> Response:
        await asyncio.to_thread(stuck.wait, 10)  # answers only when the test is done
        return Response(status_code=204)

    app = Starlette(routes=[Route("/ingest", hang, methods=["POST"])])
    with ThreadedServer(app) as server:
        logs = {"exporter": "webhook", "endpoint": f"{server.base_url}/ingest",
                "batch_records": 2, "flush_interval_ms": 10, "queue_records": 5}
        try:
            async with in_process({**MOCK, "telemetry": {"logs": logs}}) as gateway:
                export: Any = gateway.gateway.log_export
                slowest = 0.0
                for _ in range(30):
                    started = time.perf_counter()
                    reply = await gateway.client.post("/v1/chat/completions", json=CHAT)
                    slowest = max(slowest, time.perf_counter() - started)
                    assert reply.status_code == 200
                queued = len(export._queue)
                dropped = export.dropped
        finally:
            stuck.set()
    assert slowest < 1.0  # the webhook's POST hangs for 10 s: no request waited for it
    assert queued <= 5 and dropped >= 30 - 5 - 2  # beyond the queue (and one batch out): dropped


async def test_request_lines_go_to_an_otlp_collector_with_the_trace_ids(
    collector: tuple[OtlpReceiver, ThreadedServer],
) -> None:
    receiver, server = collector
    receiver.clear()
    telemetry = {**traces_config(server.base_url),
                 "logs": {"exporter": "otlp", "endpoint": server.base_url,
                          "flush_interval_ms": 50}}
    async with in_process({**MOCK, "telemetry": telemetry}) as gateway:
        reply = await gateway.client.post("/v1/chat/completions", json=CHAT)
        assert reply.status_code == 200
    (record,) = [log for log in receiver.logs if log["body"] == "request"]
    attributes = record["attributes"]
    assert attributes["path"] == "/v1/chat/completions" and attributes["status"] == 200
    (server_span,) = receiver.wait_for("POST /v1/chat/completions")
    assert attributes["trace_id"] == server_span.trace_id
    assert attributes["span_id"] == server_span.span_id
    assert not [log for log in receiver.logs if log["body"] == "payload"]  # off by default


async def test_a_payload_record_holds_the_answer_after_the_output_guards_masking() -> None:
    """An output mask guard applies to the payload record too: it logs what the client got."""
    webhook = Webhook()
    email = "Write to jane.doe@example.com please"
    masked_output = {
        "models": [{"name": "echo", "provider": "mock"}],
        "guardrails": {"pii": {"type": "pii", "on": ["output"], "action": "mask"}},
        "guardrail_policy": {"default": ["pii"]},
    }
    with ThreadedServer(webhook.app) as server:
        logs = {"exporter": "webhook", "endpoint": f"{server.base_url}/ingest",
                "headers": {"x-ingest-key": "secret-ingest"}, "payloads": True,
                "flush_interval_ms": 20}
        async with in_process({**MOCK, **masked_output, "telemetry": {"logs": logs}}) as gateway:
            reply = await gateway.client.post("/v1/chat/completions", json={
                "model": "echo", "messages": [{"role": "user", "content": email}]})
            assert reply.status_code == 200
            received = reply.json()["choices"][0]["message"]["content"]
            records = await webhook.records(2)
    assert "jane.doe@example.com" not in received and "EMAIL" in received  # the guard masked
    (payload,) = [record for record in records if record["event"] == "payload"]
    assert "jane.doe@example.com" in payload["input"]  # an output guard leaves the input be
    assert "jane.doe@example.com" not in payload["output"]
    assert received in orjson.loads(payload["output"])["content"][0]["text"]
