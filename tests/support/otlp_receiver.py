"""An OTLP/HTTP receiver for tests: the real exporters POST protobuf to it (`/v1/traces`,
`/v1/logs`); it decodes them with the OpenTelemetry protobuf classes and keeps plain records.

    receiver = OtlpReceiver()
    with ThreadedServer(receiver.app) as server:   # telemetry.traces.endpoint: server.base_url
        ...
    receiver.spans  # [Span(name, trace_id, span_id, parent_id, kind, attributes, links, status)]
"""

from __future__ import annotations

import gzip
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Span:
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    kind: int  # 1 internal, 2 server, 3 client
    attributes: dict[str, Any]
    links: list[str] = field(default_factory=list)  # linked span ids
    status: int = 0  # 2: error
    service: str = ""


def _value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return {item.key: _value(item.value) for item in value.kvlist_value.values}
    return getattr(value, which)


class OtlpReceiver:
    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.logs: list[dict[str, Any]] = []
        self.trace_headers: list[dict[str, str]] = []  # each /v1/traces request's headers
        self._lock = threading.Lock()
        self.app = Starlette(routes=[
            Route("/v1/traces", self.traces, methods=["POST"]),
            Route("/v1/logs", self.logs_endpoint, methods=["POST"]),
        ])

    @staticmethod
    async def _body(request: Request) -> bytes:
        body = await request.body()
        return gzip.decompress(body) if request.headers.get("content-encoding") == "gzip" else body

    async def traces(self, request: Request) -> Response:
        message = ExportTraceServiceRequest()
        message.ParseFromString(await self._body(request))
        with self._lock:
            self.trace_headers.append(dict(request.headers))
        spans = []
        for resource in message.resource_spans:
            resource_attributes = {a.key: _value(a.value) for a in resource.resource.attributes}
            for scope in resource.scope_spans:
                for span in scope.spans:
                    spans.append(Span(
                        span.name, span.trace_id.hex(), span.span_id.hex(),
                        span.parent_span_id.hex(), span.kind,
                        {a.key: _value(a.value) for a in span.attributes},
                        [link.span_id.hex() for link in span.links], span.status.code,
                        str(resource_attributes.get("service.name", "")),
                    ))
        with self._lock:
            self.spans.extend(spans)
        return Response(ExportTraceServiceResponse().SerializeToString(),
                        media_type="application/x-protobuf")

    async def logs_endpoint(self, request: Request) -> Response:
        message = ExportLogsServiceRequest()
        message.ParseFromString(await self._body(request))
        records = []
        for resource in message.resource_logs:
            for scope in resource.scope_logs:
                for record in scope.log_records:
                    records.append({
                        "body": _value(record.body),
                        "attributes": {a.key: _value(a.value) for a in record.attributes},
                        "trace_id": record.trace_id.hex(),
                    })
        with self._lock:
            self.logs.extend(records)
        return Response(ExportLogsServiceResponse().SerializeToString(),
                        media_type="application/x-protobuf")

    def clear(self) -> None:
        with self._lock:
            self.spans.clear()
            self.logs.clear()
            self.trace_headers.clear()

    def wait_for(self, name_prefix: str, count: int = 1, timeout: float = 10.0) -> list[Span]:
        """The spans whose names start with `name_prefix`, once `count` have arrived."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [span for span in self.spans if span.name.startswith(name_prefix)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def trace(self, trace_id: str) -> list[Span]:
        with self._lock:
            return [span for span in self.spans if span.trace_id == trace_id]


def children(spans: list[Span], parent: Span) -> list[Span]:
    return [span for span in spans if span.parent_id == parent.span_id]


def traces_config(receiver_url: str, **traces: Any) -> dict[str, Any]:
    """`telemetry:` sending every span to the receiver at once (a short batch delay)."""
    return {"traces": {"exporter": "otlp_http", "endpoint": receiver_url,
                       "batch_delay_ms": 50, **traces}}
