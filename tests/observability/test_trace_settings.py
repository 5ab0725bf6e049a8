"""`telemetry.traces` and the standard `OTEL_*` environment variables: what the YAML leaves
out the environment fills, end to end with the real OTLP/HTTP exporter; `otlp_grpc` without
its extra is a clear error at start-up; an embeddings call's attempt span is named for its
operation."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from relaygate.errors import GatewayError
from relaygate.observability.settings import TraceExporter, TraceSettings
from tests.support.otlp_receiver import OtlpReceiver, children, traces_config
from tests.support.routing_gateway import HELLO, client, in_process_gateway
from tests.support.servers import ThreadedServer

MOCK = {"providers": {"mock": {"type": "mock"}},
        "models": [{"name": "mock", "provider": "mock"}], "ledger": {"enabled": False}}


def test_the_environment_fills_what_the_yaml_leaves_out() -> None:
    environ = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
               "OTEL_TRACES_SAMPLER_ARG": "0.25", "OTEL_SERVICE_NAME": "edge-gw"}
    resolved = TraceSettings().resolved(environ)
    assert resolved.exporter is TraceExporter.OTLP_HTTP and resolved.enabled
    assert (resolved.endpoint, resolved.sample_ratio, resolved.service_name) == (
        "http://c:4318", 0.25, "edge-gw")
    grpc = TraceSettings().resolved({**environ, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    assert grpc.exporter is TraceExporter.OTLP_GRPC
    assert TraceSettings().resolved({"OTEL_TRACES_EXPORTER": "console"}).exporter is (
        TraceExporter.CONSOLE)
    # the YAML wins over the environment; nothing set is off
    given = TraceSettings(exporter=TraceExporter.NONE, sample_ratio=1.0, service_name="mine")
    mine = given.resolved(environ)
    assert (mine.enabled, mine.sample_ratio, mine.service_name) == (False, 1.0, "mine")
    assert not TraceSettings().resolved({}).enabled
    assert TraceSettings().resolved({"OTEL_TRACES_EXPORTER": "zipkin"}).exporter is (
        TraceExporter.NONE)
    assert TraceSettings().resolved({"OTEL_TRACES_SAMPLER_ARG": "x"}).sample_ratio == 1.0


def test_otel_environment_alone_turns_tracing_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    receiver = OtlpReceiver()
    with ThreadedServer(receiver.app) as collector:
        monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.base_url)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-ingest-key=from-env")
        monkeypatch.setenv("OTEL_SERVICE_NAME", "edge-gw")
        with in_process_gateway(tmp_path, MOCK) as gateway:  # no telemetry: in the YAML
            client(gateway.base_url).chat.completions.create(model="mock", messages=HELLO)
        (span,) = receiver.wait_for("POST /v1/chat/completions")
    assert span.service == "edge-gw"
    assert receiver.trace_headers and all(
        headers.get("x-ingest-key") == "from-env" for headers in receiver.trace_headers)


def test_otlp_grpc_without_its_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from relaygate.observability.tracing.tracer import build_exporter

    # as without the extra installed (None in sys.modules: its import raises ImportError)
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
                        None)
    settings = TraceSettings(exporter=TraceExporter.OTLP_GRPC).resolved({})
    with pytest.raises(GatewayError, match=r"relaygate\[otlp-grpc\]"):
        build_exporter(settings)


def test_an_embeddings_attempt_is_an_embeddings_span(tmp_path: Path) -> None:
    receiver = OtlpReceiver()
    config = {"providers": {"mock": {"type": "mock"}}, "ledger": {"enabled": False},
              "models": [{"name": "embedder", "provider": "mock", "model": "mock-embed"}]}
    with ThreadedServer(receiver.app) as collector:
        config["telemetry"] = traces_config(collector.base_url)
        with in_process_gateway(tmp_path, config) as gateway:
            client(gateway.base_url).embeddings.create(model="embedder", input=["a", "b"])
        (request,) = receiver.wait_for("POST /v1/embeddings")
        spans = receiver.trace(request.trace_id)
    (attempt,) = [span for span in children(spans, request) if span.kind == 3]
    assert attempt.name == "embeddings mock-embed"
    assert attempt.attributes["gen_ai.operation.name"] == "embeddings"
    assert attempt.attributes["gen_ai.usage.input_tokens"] == 2
