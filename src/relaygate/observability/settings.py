"""`telemetry:` in the YAML: traces (OpenTelemetry), payload logging and log export.

Everything is off by default; the standard `OTEL_*` environment variables fill what the file
leaves out (`OTEL_TRACES_EXPORTER`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`,
`OTEL_TRACES_SAMPLER_ARG`, `OTEL_SERVICE_NAME`; the exporters read their own `OTEL_*` too).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TraceExporter(StrEnum):
    OTLP_HTTP = "otlp_http"
    OTLP_GRPC = "otlp_grpc"
    CONSOLE = "console"
    NONE = "none"


class TraceSettings(_Strict):
    """`telemetry.traces`: where spans go and how many are kept."""

    exporter: TraceExporter | None = None  # None: $OTEL_TRACES_EXPORTER, else none (off)
    endpoint: str | None = None  # the collector's base URL, as OTEL_EXPORTER_OTLP_ENDPOINT
    headers: dict[str, str] = Field(default_factory=dict)  # e.g. an ingest key
    sample_ratio: float | None = Field(default=None, ge=0, le=1)  # None: $OTEL_TRACES_SAMPLER_ARG or 1
    capture_content: bool = False  # prompts and completions on spans (after guards' masking)
    service_name: str | None = None  # None: $OTEL_SERVICE_NAME, else "relaygate"
    max_queue_size: int = Field(default=2048, gt=0)  # spans waiting; beyond, new ones dropped
    batch_delay_ms: int = Field(default=1000, gt=0)

    def resolved(self, environ: Mapping[str, str] | None = None) -> ResolvedTraces:
        env = os.environ if environ is None else environ
        exporter = self.exporter
        if exporter is None:
            name = env.get("OTEL_TRACES_EXPORTER", "none").split(",")[0].strip().lower()
            exporter = {"otlp": TraceExporter.OTLP_HTTP}.get(name) or (
                TraceExporter(name) if name in TraceExporter._value2member_map_ else TraceExporter.NONE
            )
            if name == "otlp" and env.get("OTEL_EXPORTER_OTLP_PROTOCOL", "").startswith("grpc"):
                exporter = TraceExporter.OTLP_GRPC
        ratio = self.sample_ratio
        if ratio is None:
            try:
                ratio = float(env.get("OTEL_TRACES_SAMPLER_ARG", "1"))
            except ValueError:
                ratio = 1.0
        return ResolvedTraces(
            exporter=exporter,
            endpoint=self.endpoint or env.get("OTEL_EXPORTER_OTLP_ENDPOINT"),
            headers=dict(self.headers),
            sample_ratio=min(max(ratio, 0.0), 1.0),
            capture_content=self.capture_content,
            service_name=self.service_name or env.get("OTEL_SERVICE_NAME", "relaygate"),
            max_queue_size=self.max_queue_size,
            batch_delay_ms=self.batch_delay_ms,
        )


class ResolvedTraces(_Strict):
    exporter: TraceExporter
    endpoint: str | None
    headers: dict[str, str]
    sample_ratio: float
    capture_content: bool
    service_name: str
    max_queue_size: int
    batch_delay_ms: int

    @property
    def enabled(self) -> bool:
        return self.exporter is not TraceExporter.NONE


class LogExporter(StrEnum):
    STDOUT = "stdout"  # the JSON lines on stdout (always on)
    OTLP = "otlp"  # also OTLP/HTTP logs to the collector
    WEBHOOK = "webhook"  # also batched JSON POSTs (Langfuse-like ingesters)


class LogSettings(_Strict):
    """`telemetry.logs`: the request log line's export, and optional payloads."""

    exporter: LogExporter = LogExporter.STDOUT
    endpoint: str | None = None  # otlp: the collector's base URL; webhook: the URL POSTed to
    headers: dict[str, str] = Field(default_factory=dict)
    payloads: bool = False  # a call's input and whole output in a `payload` log record
    max_payload_chars: int = Field(default=8192, gt=0)
    batch_records: int = Field(default=100, gt=0)
    flush_interval_ms: int = Field(default=1000, gt=0)
    queue_records: int = Field(default=10_000, gt=0)  # waiting; beyond, new records are dropped


class TelemetrySettings(_Strict):
    traces: TraceSettings = Field(default_factory=TraceSettings)
    logs: LogSettings = Field(default_factory=LogSettings)
