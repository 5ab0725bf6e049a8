"""Render gateway errors in the format of the front that was called; never a traceback."""

from __future__ import annotations

import math

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from relaygate.errors import GatewayError
from relaygate.fronts.dialect import speaks_gemini
from relaygate.observability.logging import get_logger
from relaygate.pipeline.context import RequestContext
from relaygate.translate.error_bodies import (  # re-exported: the fronts' error shapes
    ErrorBody,
    anthropic_error_body,
    gemini_error_body,
    openai_error_body,
)

_log = get_logger("relaygate.errors")



# Routing as data: which error format each path prefix speaks (first match wins).
ERROR_FORMATS: list[tuple[str, ErrorBody]] = [
    ("/v1/messages", anthropic_error_body),
]


def error_body_for(request: Request) -> ErrorBody:
    """The error format of the API the request speaks (Gemini's also under `/v1`)."""
    if speaks_gemini(request):
        return gemini_error_body
    return error_body_for_path(request.url.path)


def error_body_for_path(path: str) -> ErrorBody:
    """The error format of a path, by its prefix (what `error_body_for` falls back on)."""
    for prefix, body in ERROR_FORMATS:
        if path.startswith(prefix):
            return body
    return openai_error_body


def error_response(request: Request, error: GatewayError) -> Response:
    context: RequestContext | None = request.scope.get("state", {}).get("context")
    if context is not None:
        context.error = error.code or error.type
    headers = dict(error.headers) if error.headers else {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(math.ceil(error.retry_after))
        headers["retry-after-ms"] = str(math.ceil(error.retry_after * 1000))  # the openai SDK's
    body = error_body_for(request)(error)
    return Response(
        orjson.dumps(body), status_code=error.status, headers=headers, media_type="application/json"
    )


async def handle_gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    return error_response(request, exc)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error = GatewayError(str(exc.detail), status=exc.status_code)
    error.type = "invalid_request_error" if exc.status_code < 500 else "api_error"
    if exc.status_code == 404:
        error.type, error.code = "not_found_error", "not_found"
    if exc.status_code == 405:
        error.code = "method_not_allowed"
    return error_response(request, error)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """The last resort: log the traceback, tell the client only that it failed."""
    context: RequestContext | None = request.scope.get("state", {}).get("context")
    request_id = context.request_id if context else None
    _log.error("unhandled error", request_id=request_id, exc_info=exc)
    error = GatewayError(
        f"The gateway failed to process the request (request id {request_id}).",
        code="internal_error",
    )
    return error_response(request, error)
