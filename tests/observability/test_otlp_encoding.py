"""The OTLP encoding of a span batch is the SDK encoder's message, field for field: the bytes
decode (with opentelemetry-proto's real classes) to what `encode_spans` builds, for spans with
every kind of attribute value, events, links, error statuses, remote parents and two scopes."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode
from opentelemetry.trace.span import TraceFlags, TraceState

from relaygate.observability.tracing.otlp_encoding import encode_request


class Kept(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: object) -> SpanExportResult:
        self.spans.extend(spans)  # type: ignore[call-overload]
        return SpanExportResult.SUCCESS


def _spans() -> list[ReadableSpan]:
    kept = Kept()
    provider = TracerProvider(resource=Resource.create({"service.name": "relaygate",
                                                         "deployment.weight": 3}))
    provider.add_span_processor(SimpleSpanProcessor(kept))
    tracer = provider.get_tracer("relaygate")
    other = provider.get_tracer("relaygate.agents", "1.2", schema_url="https://example/schema")
    remote = SpanContext(0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7, is_remote=True,
                         trace_flags=TraceFlags(1), trace_state=TraceState([("vendor", "1")]))
    client = trace.set_span_in_context(NonRecordingSpan(remote))
    with tracer.start_as_current_span("POST /v1/chat/completions", client, SpanKind.SERVER,
                                      {"http.response.status_code": 200, "url.path": "/v1"}):
        span = tracer.start_span("chat m", kind=SpanKind.CLIENT, attributes={
            "gen_ai.request.model": "gpt", "relaygate.attempt": 1, "relaygate.relayed": False,
            "gen_ai.usage.input_tokens": 0, "relaygate.cost_usd": 0.0, "temperature": -1.5,
            "big": 2**62, "negative": -7, "empty": "", "ünïcode": "naïve ☃",
            "gen_ai.response.finish_reasons": ("stop", "length"), "flags": (True, False),
            "counts": (1, 2, 3), "scores": (0.5, 1.25),
        })
        span.add_event("retry", {"attempt": 2})
        span.set_status(Status(StatusCode.ERROR, "upstream_error"))
        span.end()
        tracer.start_span("relaygate.step route").end()
        ok = tracer.start_span("relaygate.step cache")
        ok.set_status(Status(StatusCode.OK))
        ok.end()
    linked = other.start_span("relaygate.response.background", context=trace.Context(),
                              links=[Link(remote, {"relaygate.why": "queued"})])
    linked.end()
    return kept.spans


def test_the_encoded_batch_decodes_to_the_sdk_encoders_message() -> None:
    spans = _spans()
    assert len(spans) == 5
    ours = ExportTraceServiceRequest.FromString(encode_request(spans))
    assert ours == encode_spans(spans)
    assert len(ours.resource_spans[0].scope_spans) == 2  # grouped by scope, as the SDK does


def test_each_span_alone_encodes_the_same() -> None:
    for span in _spans():
        assert ExportTraceServiceRequest.FromString(encode_request([span])) == encode_spans([span])
