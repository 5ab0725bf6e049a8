"""Map an upstream's HTTP failure status, or a reply of the wrong shape, to the gateway's
error tree."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import orjson

from relaygate.errors import (
    GatewayError,
    RateLimited,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
)

T = TypeVar("T")

MALFORMED = (orjson.JSONDecodeError, KeyError, IndexError, TypeError, ValueError, AttributeError)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after") or headers.get("Retry-After")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def upstream_failure(
    provider: str,
    status: int,
    message: str | None,
    headers: Mapping[str, str],
    code: str | None = None,
) -> GatewayError:
    """4xx are relayed with the upstream's message; 429/529/503 are limits; other 5xx → 502."""
    detail = message or f"HTTP {status}"
    if status == 429:
        return RateLimited(
            f"The upstream provider '{provider}' is rate limiting: {detail}",
            retry_after=retry_after_seconds(headers),
            code=code or "rate_limit_exceeded",
        )
    if status in (503, 529):
        return UpstreamUnavailable(
            f"The upstream provider '{provider}' is overloaded: {detail}",
            retry_after=retry_after_seconds(headers),
        )
    if 400 <= status < 500:
        error = UpstreamRejected(detail, status=status, code=code)
        if status == 401:
            error.type = "authentication_error"
        elif status == 403:
            error.type = "permission_error"
        elif status == 404:
            error.type = "not_found_error"
        return error
    return UpstreamError(f"The upstream provider '{provider}' failed with HTTP {status}: {detail}")


def decoded_result(provider: str, body: bytes, decode: Callable[[Any], T]) -> T:
    """An upstream's whole answer → its result; any other shape is a malformed reply (502)."""
    try:
        return decode(orjson.loads(body))
    except MALFORMED as exc:
        raise UpstreamError(
            f"The upstream provider '{provider}' returned a malformed response."
        ) from exc


def malformed_reply(provider: str, expected: str, content_type: str) -> UpstreamError:
    """A reply of the wrong content type (a 200 that is not JSON, a stream that is not SSE)."""
    kind = "stream" if expected == "text/event-stream" else "response"
    return UpstreamError(
        f"The upstream provider '{provider}' returned a malformed {kind} "
        f"(expected {expected}, got {content_type or 'no content type'})."
    )
