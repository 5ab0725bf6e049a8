"""ASGI middleware (only in the list when tracing is on): the server span of each HTTP
request, continuing the client's `traceparent`/`tracestate`; the tracing made current for the
request's work (and a WebSocket's), its ids left on the scope for the request log line."""

from __future__ import annotations

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from relaygate.observability.tracing.current import TRACING
from relaygate.observability.tracing.tracer import Tracing
from relaygate.pipeline.context import RequestContext

TRACE_IDS = "trace_ids"  # scope["state"][TRACE_IDS]: (trace_id, span_id) as hex


class TracingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        gateway = getattr(scope["app"].state, "gateway", None)
        tracing: Tracing | None = getattr(gateway, "tracing", None)
        if tracing is None:
            await self.app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in (b"traceparent", b"tracestate")
        }
        TRACING.set(tracing)
        if scope["type"] == "websocket":  # each turn is a trace of its own (realtime/pool)
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        span = tracing.tracer.start_span(
            f"{method} {path}", tracing.extract(carrier), SpanKind.SERVER,
            {"http.request.method": method, "url.path": path},
        )
        context = span.get_span_context()
        scope.setdefault("state", {})[TRACE_IDS] = (
            format(context.trace_id, "032x"), format(context.span_id, "016x"),
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            otel_context.detach(token)
            span.set_attribute("http.response.status_code", status)
            request: RequestContext | None = scope.get("state", {}).get("context")
            if request is not None:
                _describe(span, request)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            span.end()


def _describe(span: trace.Span, request: RequestContext) -> None:
    """The request's GenAI summary on its server span (what the fronts recorded)."""
    if request.model is not None:
        span.set_attribute("gen_ai.request.model", request.model)
    if request.tenant is not None:
        span.set_attribute("relaygate.tenant", request.tenant)
    if request.provider is not None:
        span.set_attribute("relaygate.provider", request.provider)
    if request.usage is not None:
        span.set_attribute("gen_ai.usage.input_tokens", request.usage.input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", request.usage.output_tokens)
    if request.error is not None:
        span.set_attribute("error.type", request.error)
    span.set_attribute("relaygate.request_id", request.request_id)
