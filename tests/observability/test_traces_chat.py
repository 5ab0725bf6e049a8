"""Traces of model calls, end to end: the official OpenAI SDK against an in-process gateway on
a real port, the real OTLP/HTTP exporter sending protobuf to a receiver in the test."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.routing.test_failover import FAST_RETRIES
from tests.support.faulty_upstream import Fault, FaultyUpstream
from tests.support.otlp_receiver import OtlpReceiver, children, traces_config
from tests.support.routing_gateway import HELLO, client, in_process_gateway
from tests.support.servers import ThreadedServer

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_PARENT = "00f067aa0ba902b7"


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[OtlpReceiver, ThreadedServer]]:
    receiver = OtlpReceiver()
    with ThreadedServer(receiver.app) as server:
        yield receiver, server


@pytest.fixture(scope="module")
def faulty() -> Iterator[tuple[FaultyUpstream, ThreadedServer]]:
    upstream = FaultyUpstream()
    with ThreadedServer(upstream.app) as server:
        yield upstream, server


def _config(faulty: tuple[FaultyUpstream, ThreadedServer], receiver_url: str) -> dict[str, object]:
    upstream, server = faulty

    def provider(deployment: str) -> dict[str, object]:
        return {"type": "openai", "base_url": upstream.base_url(server, deployment),
                "api_key": "sk-test"}

    return {
        "providers": {"a": provider("a"), "b": provider("b")},
        "models": [
            {"name": "gpt", "provider": "a", "model": "m", "id": "a"},
            {"name": "backup", "provider": "b", "model": "m", "id": "b"},
        ],
        "routing": {"default": {"retries": {**FAST_RETRIES, "count": 0}},
                    "fallbacks": {"gpt": ["backup"]}},
        "telemetry": traces_config(receiver_url, capture_content=True),
        "ledger": {"enabled": False},
    }


def test_a_chat_call_that_falls_back_is_one_tree_continuing_the_client_trace(
    tmp_path: Path, receiver: tuple[OtlpReceiver, ThreadedServer],
    faulty: tuple[FaultyUpstream, ThreadedServer],
) -> None:
    spans, server = receiver
    spans.clear()
    upstream, _ = faulty
    upstream.faults["a"] = Fault("500")
    upstream.traceparents.clear()
    traceparent = f"00-{CLIENT_TRACE}-{CLIENT_PARENT}-01"
    with in_process_gateway(tmp_path, _config(faulty, server.base_url)) as gateway:
        reply = client(gateway.base_url).chat.completions.with_raw_response.create(
            model="gpt", messages=HELLO, extra_headers={"traceparent": traceparent,
                                                        "tracestate": "vendor=1"},
        )
    assert reply.headers["x-relaygate-fallback"] == "backup"
    request = spans.wait_for("POST /v1/chat/completions")[0]
    tree = spans.trace(CLIENT_TRACE)
    assert request.trace_id == CLIENT_TRACE and request.parent_id == CLIENT_PARENT
    assert request.kind == 2 and request.attributes["http.response.status_code"] == 200
    assert request.attributes["gen_ai.request.model"] == "gpt"
    under = children(tree, request)
    steps = [span.name for span in under if span.name.startswith("relaygate.step")]
    assert "relaygate.step route" in steps
    attempts = sorted((span for span in under if span.name.startswith("chat ")),
                      key=lambda span: span.attributes["relaygate.attempt"])
    assert [span.attributes["relaygate.deployment"] for span in attempts] == ["a", "b"]
    failed, served = attempts
    assert failed.kind == 3 and failed.status == 2
    assert failed.attributes["http.response.status_code"] == 502  # the upstream 500, as ours
    assert failed.attributes["error.type"]
    assert served.attributes["gen_ai.usage.output_tokens"] > 0
    assert served.attributes["gen_ai.response.model"] == "m"
    assert served.attributes["gen_ai.provider.name"] == "openai"
    assert "hello" in served.attributes["gen_ai.input.messages"]
    # each upstream attempt got its own client span as parent, in the client's trace
    assert upstream.traceparents == [f"00-{CLIENT_TRACE}-{failed.span_id}-01",
                                     f"00-{CLIENT_TRACE}-{served.span_id}-01"]


def _masking_pii(config: dict[str, object], on: str) -> dict[str, object]:
    """`config` with a PII guard that masks on `on` (input or output) for every call."""
    return {**config, "guardrails": {"pii": {"type": "pii", "on": [on], "action": "mask"}},
            "guardrail_policy": {"default": ["pii"]}}


def test_captured_content_is_the_masked_input_and_only_when_asked(
    tmp_path: Path, receiver: tuple[OtlpReceiver, ThreadedServer],
    faulty: tuple[FaultyUpstream, ThreadedServer],
) -> None:
    spans, server = receiver
    upstream, _ = faulty
    upstream.faults.clear()
    email = "Write to jane.doe@example.com please"
    masked = _masking_pii(_config(faulty, server.base_url), "input")
    with in_process_gateway(tmp_path, masked) as gateway:
        client(gateway.base_url).chat.completions.create(
            model="gpt", messages=[{"role": "user", "content": email}])
    (attempt,) = [span for span in spans.wait_for("chat ")
                  if "EMAIL" in span.attributes.get("gen_ai.input.messages", "")]
    assert "jane.doe@example.com" not in attempt.attributes["gen_ai.input.messages"]
    assert "<EMAIL_1>" in attempt.attributes["gen_ai.input.messages"]
    plain = {**_config(faulty, server.base_url),
             "telemetry": traces_config(server.base_url)}  # capture_content: false
    spans.clear()
    with in_process_gateway(tmp_path, plain) as gateway:
        client(gateway.base_url).chat.completions.create(
            model="gpt", messages=[{"role": "user", "content": email}])
    (attempt,) = spans.wait_for("chat ")
    assert "gen_ai.input.messages" not in attempt.attributes
    assert all("jane.doe" not in str(span.attributes) for span in spans.wait_for(""))


def test_tracing_off_sends_no_traceparent_and_logs_no_trace_id(
    tmp_path: Path, faulty: tuple[FaultyUpstream, ThreadedServer],
) -> None:
    upstream, server = faulty
    upstream.faults.clear()
    upstream.traceparents.clear()
    config = {"providers": {"a": {"type": "openai", "base_url": upstream.base_url(server, "a"),
                                  "api_key": "sk-test"}},
              "models": [{"name": "gpt", "provider": "a", "model": "m"}], "ledger": {"enabled": False}}
    with in_process_gateway(tmp_path, config) as gateway:
        client(gateway.base_url).chat.completions.create(model="gpt", messages=HELLO)
    assert upstream.traceparents == [None]


def test_captured_completion_is_what_the_client_received_after_output_masking(
    tmp_path: Path, receiver: tuple[OtlpReceiver, ThreadedServer],
    faulty: tuple[FaultyUpstream, ThreadedServer],
) -> None:
    spans, server = receiver
    upstream, _ = faulty
    upstream.faults.clear()
    email = "Write to jane.doe@example.com please"  # the upstream echoes it back
    masked = _masking_pii(_config(faulty, server.base_url), "output")
    spans.clear()
    with in_process_gateway(tmp_path, masked) as gateway:
        completion = client(gateway.base_url).chat.completions.create(
            model="gpt", messages=[{"role": "user", "content": email}])
    received = completion.choices[0].message.content
    assert received is not None and "jane.doe" not in received and "EMAIL" in received
    (request,) = spans.wait_for("POST /v1/chat/completions")
    output = json.loads(request.attributes["gen_ai.output.messages"])
    assert output[0]["role"] == "assistant" and output[0]["content"] == received
    assert output[0]["finish_reason"] == "stop"
    assert all("jane.doe" not in str(span.attributes.get("gen_ai.output.messages", ""))
               for span in spans.wait_for(""))
    # a relayed answer (no guard: the client's bytes go through) is captured from its body
    spans.clear()
    with in_process_gateway(tmp_path, _config(faulty, server.base_url)) as gateway:
        completion = client(gateway.base_url).chat.completions.create(
            model="gpt", messages=[{"role": "user", "content": "hello heron"}])
    (request,) = spans.wait_for("POST /v1/chat/completions")
    (message,) = json.loads(request.attributes["gen_ai.output.messages"])
    assert message["content"] == completion.choices[0].message.content
    assert "hello heron" in message["content"] and message["finish_reason"] == "stop"
    (attempt,) = spans.wait_for("chat ")
    assert attempt.attributes["relaygate.relayed"] is True


def test_a_dropped_request_makes_no_span_yet_the_upstream_continues_its_trace(
    tmp_path: Path, receiver: tuple[OtlpReceiver, ThreadedServer],
    faulty: tuple[FaultyUpstream, ThreadedServer],
) -> None:
    """sample_ratio 0: a request of its own is dropped (no span at all, the upstream gets the
    trace id with flag 00); a client's sampled trace is still kept (parent-based)."""
    spans, server = receiver
    upstream, _ = faulty
    upstream.faults.clear()
    upstream.traceparents.clear()
    spans.clear()
    config = {**_config(faulty, server.base_url),
              "telemetry": traces_config(server.base_url, sample_ratio=0.0)}
    with in_process_gateway(tmp_path, config) as gateway:
        openai = client(gateway.base_url)
        openai.chat.completions.create(model="gpt", messages=HELLO)
        openai.chat.completions.create(
            model="gpt", messages=HELLO,
            extra_headers={"traceparent": f"00-{CLIENT_TRACE}-{CLIENT_PARENT}-01"})
    dropped, continued = upstream.traceparents
    assert dropped is not None and re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-00", dropped)
    kept = spans.wait_for("chat ")  # the gateway has closed: every span it made is exported
    assert not spans.trace(dropped.split("-")[1])
    assert {span.trace_id for span in spans.wait_for("")} == {CLIENT_TRACE}
    (attempt,) = kept
    assert continued == f"00-{CLIENT_TRACE}-{attempt.span_id}-01"
    names = sorted(span.name for span in spans.trace(CLIENT_TRACE))
    assert names == ["POST /v1/chat/completions", "chat m", "relaygate.step route"]
