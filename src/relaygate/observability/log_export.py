"""Log export beside the JSON lines on stdout: the request log lines (and payload records)
also go to an OTLP logs collector or, batched, to a webhook (Langfuse-like ingesters).

Both are bounded and never block a request: `emit` appends to a queue of at most
`telemetry.logs.queue_records` records (a record beyond it is dropped and counted), and a
background task (the OTLP SDK's batch processor, or ours for the webhook) sends batches.
"""

from __future__ import annotations

from typing import Any, Protocol

from relaygate.lazy_import import import_module
from relaygate.observability.settings import LogExporter, LogSettings


class LogExport(Protocol):
    def emit(self, event: str, fields: dict[str, Any]) -> None:
        """Queue one record (never blocks; dropped when the queue is full)."""

    def start(self) -> None: ...

    async def close(self) -> None: ...


async def build_log_export(settings: LogSettings, service_name: str) -> LogExport | None:
    """The configured export, or None for stdout only (the default)."""
    if settings.exporter is LogExporter.WEBHOOK:
        webhook = await import_module("relaygate.observability.log_webhook")
        hook: LogExport = webhook.WebhookExport(settings)
        return hook
    if settings.exporter is LogExporter.OTLP:
        module = await import_module("relaygate.observability.otlp_logs")
        export: LogExport = module.OtlpLogExport(settings, service_name)
        return export
    return None
