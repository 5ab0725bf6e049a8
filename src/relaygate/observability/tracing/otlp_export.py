"""The OTLP/HTTP span exporter: the SDK's (its endpoint and `OTEL_*` settings, headers,
compression, retries with backoff, request size limit, its own metrics), with the batch
encoded by `otlp_encoding.encode_request` instead of the SDK's protobuf objects."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

from relaygate.observability.tracing.otlp_encoding import encode_request

_log = logging.getLogger(__name__)


class OtlpHttpSpanExporter(OTLPSpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        client = getattr(self, "_client", None)
        metrics = getattr(self, "_metrics", None)
        if client is None or metrics is None:  # an SDK whose exporter is laid out otherwise
            return super().export(spans)
        if self._shutdown:
            return SpanExportResult.FAILURE
        with metrics.export_operation(len(spans)) as result:
            try:
                data = encode_request(spans)
            except (TypeError, ValueError, AttributeError, AssertionError) as error:
                _log.error("Failed to encode span batch: %s", error)
                result.error = error
                return SpanExportResult.FAILURE
            limit = getattr(self, "_max_request_size", None)
            if limit is not None and len(data) > limit:
                _log.warning("Dropping a span batch of %d bytes (max_request_size %d)",
                             len(data), limit)
                return SpanExportResult.FAILURE
            sent = client.export(data)
            if not sent.success:
                result.error = sent.error
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS
