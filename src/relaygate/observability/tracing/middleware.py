"""ASGI middleware (only in the list when tracing is on): the server span of each HTTP
request, continuing the client's `traceparent`/`tracestate`; the tracing made current for the
request's work (and a WebSocket's), its ids left on the scope for the request log line.

The sampler decides once, here: a request it drops pays for a non-recording span and two
context variables, nothing else (no attributes, no step spans, no OpenTelemetry context, the
upstream `traceparent` written once, with flag 00)."""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Receive, Scope, Send

from relaygate.observability.from_gateway import FromGateway
from relaygate.observability.tracing.current import SAMPLED, TRACING
from relaygate.observability.tracing.propagation import OUTGOING_TRACE
from relaygate.observability.tracing.tracer import Tracing
from relaygate.pipeline.context import RequestContext

TRACE_IDS = "trace_ids"  # scope["state"][TRACE_IDS]: (trace_id, span_id) as hex
_TRACE_HEADERS = (b"traceparent", b"tracestate")
class TracingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._tracing: FromGateway[Tracing | None] = FromGateway(lambda gateway: gateway.tracing)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        tracing = self._tracing.get(scope) if kind in ("http", "websocket") else None
        if tracing is None:
            await self.app(scope, receive, send)
            return
        TRACING.set(tracing)
        if kind == "websocket":  # each turn is a trace of its own (realtime/pool)
            await self.app(scope, receive, send)
            return
        carrier = None
        for name, value in scope["headers"]:
            if name in _TRACE_HEADERS:
                if carrier is None:
                    carrier = {}
                carrier[name.decode("latin-1")] = value.decode("latin-1")
        parent = tracing.extract(carrier) if carrier is not None else None
        method, path = scope["method"], scope["path"]
        span = tracing.tracer.start_span(f"{method} {path}", parent, SpanKind.SERVER)
        ids = span.get_span_context()
        trace_id, span_id = format(ids.trace_id, "032x"), format(ids.span_id, "016x")
        scope.setdefault("state", {})[TRACE_IDS] = (trace_id, span_id)
        if not span.is_recording():  # dropped: the upstreams still continue the trace
            outgoing = {"traceparent": f"00-{trace_id}-{span_id}-00"}
            if ids.trace_state:
                outgoing["tracestate"] = ids.trace_state.to_header()
            OUTGOING_TRACE.set(outgoing)
            SAMPLED.set(False)  # nothing below reads OpenTelemetry's context: not attached
            await self.app(scope, receive, send)
            return
        SAMPLED.set(True)
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            await self.app(scope, receive, send)
        finally:
            otel_context.detach(token)
            request: RequestContext | None = scope["state"].get("context")
            status = (request.status if request is not None else 0) or 500
            attributes: dict[str, Any] = {"http.request.method": method, "url.path": path,
                                          "http.response.status_code": status}
            if request is not None:
                _describe(attributes, request)
            span.set_attributes(attributes)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            span.end()


def _describe(attributes: dict[str, Any], request: RequestContext) -> None:
    """The request's GenAI summary for its server span (what the fronts recorded)."""
    if request.model is not None:
        attributes["gen_ai.request.model"] = request.model
    if request.tenant is not None:
        attributes["relaygate.tenant"] = request.tenant
    if request.provider is not None:
        attributes["relaygate.provider"] = request.provider
    if request.usage is not None:
        attributes["gen_ai.usage.input_tokens"] = request.usage.input_tokens
        attributes["gen_ai.usage.output_tokens"] = request.usage.output_tokens
    if request.error is not None:
        attributes["error.type"] = request.error
    attributes["relaygate.request_id"] = request.request_id
