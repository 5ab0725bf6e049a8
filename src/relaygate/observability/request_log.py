"""ASGI middleware: the request id (and the pipeline steps' headers) on every response, one
log line when a response ends."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from relaygate.observability.from_gateway import FromGateway
from relaygate.observability.logging import get_logger
from relaygate.pipeline.context import RequestContext

if TYPE_CHECKING:
    from relaygate.observability.log_export import LogExport

REQUEST_ID_HEADER = b"x-request-id"
_log = get_logger("relaygate.request")


def _client_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            text: str = value.decode("latin-1")
            if 0 < len(text) <= 200 and text.isprintable():
                return text
    return None


class RequestLogMiddleware:
    """Stamps `X-Request-ID` (the client's, or a new one) and logs one JSON line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._export: FromGateway[LogExport | None] = FromGateway(
            lambda gateway: gateway.log_export)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # 128 random bits as hex, as uuid4().hex would give, without building a UUID
        request_id = _client_request_id(scope) or f"req_{os.urandom(16).hex()}"
        context = RequestContext(request_id)
        scope.setdefault("state", {})["context"] = context
        header = (REQUEST_ID_HEADER, request_id.encode("latin-1"))
        status = 0  # 0 until the response starts
        logged = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, logged
            if message["type"] == "http.response.start":
                status = context.status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
                if context.headers:  # what the pipeline's steps added (rate limits, budgets)
                    message["headers"] += context.headers
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                logged = True
                _log_line(scope, context, status, self._export.get(scope))

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            if not logged:
                context.error = context.error or "unhandled_exception"
                _log_line(scope, context, status or 500, self._export.get(scope))
            raise
        if not logged:  # the client went away before the response ended
            context.error = context.error or "client_disconnected"
            _log_line(scope, context, status or 499, self._export.get(scope))


SECRET_PATHS = ("/v1/images/files/",)  # the rest of the path is a capability token


def _logged_path(path: str) -> str:
    """The path, with a capability token (a generated image's URL) masked."""
    if not path.startswith(SECRET_PATHS):  # one test of every prefix: the usual path
        return path
    for prefix in SECRET_PATHS:
        if path.startswith(prefix):
            return prefix + "[redacted]"
    return path


def _log_line(scope: Scope, context: RequestContext, status: int,
              export: LogExport | None) -> None:
    usage = context.usage
    seconds = time.perf_counter() - context.started
    fields = dict(
        request_id=context.request_id,
        method=scope["method"],
        path=_logged_path(scope["path"]),
        status=status,
        latency_ms=round(seconds * 1000, 3),
        tenant=context.tenant,
        model=context.model,
        provider=context.provider,
        fast_path=context.fast_path,
        upstream_calls=context.upstream_calls,
        input_tokens=usage.input_tokens if usage else None,
        output_tokens=usage.output_tokens if usage else None,
        usage_source=str(usage.source) if usage else None,
        error=context.error,
    )
    ids = scope["state"].get("trace_ids")  # the server span's, when tracing is on
    if ids:
        fields["trace_id"], fields["span_id"] = ids
    _log.info("request", **fields)
    if export is not None:  # telemetry.logs: OTLP or a webhook, queued (never blocks)
        export.emit("request", fields)
