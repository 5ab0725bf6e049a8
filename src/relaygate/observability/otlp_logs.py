"""Log records to an OTLP/HTTP collector through the OpenTelemetry SDK (loaded only when
`telemetry.logs.exporter: otlp`): its batch processor holds a bounded queue and exports
from its own thread."""

from __future__ import annotations

import asyncio
from typing import Any

from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from relaygate.observability.settings import LogSettings


def _attribute(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


class OtlpLogExport:
    def __init__(self, settings: LogSettings, service_name: str) -> None:
        endpoint = settings.endpoint
        url = f"{endpoint.rstrip('/')}/v1/logs" if endpoint else None
        self._provider = LoggerProvider(resource=Resource.create({"service.name": service_name}))
        self._provider.add_log_record_processor(BatchLogRecordProcessor(
            OTLPLogExporter(endpoint=url, headers=settings.headers or None),
            max_queue_size=settings.queue_records,
            schedule_delay_millis=settings.flush_interval_ms,
            max_export_batch_size=min(settings.batch_records, settings.queue_records),
        ))
        self._logger = self._provider.get_logger("relaygate")

    def emit(self, event: str, fields: dict[str, Any]) -> None:
        attributes = {name: _attribute(value) for name, value in fields.items()
                      if value is not None}
        self._logger.emit(body=event, attributes=attributes,
                          severity_number=SeverityNumber.INFO, severity_text="INFO")

    def start(self) -> None:
        """The SDK's processor runs its own thread."""

    async def close(self) -> None:
        await asyncio.to_thread(self._provider.shutdown)
