"""The gateway's one error tree.

Fronts render these in their own wire format (OpenAI, Anthropic, Gemini); providers
translate their vendor's failures into them once, at their edge, chaining the original.

    GatewayError                      500 api_error
    ├── InvalidRequest                400 invalid_request_error
    │   └── UnsupportedContent        422 invalid_request_error
    ├── AuthenticationFailed          401 authentication_error
    ├── PermissionDenied              403 permission_error
    ├── NotFound                      404 not_found_error
    │   └── ModelNotFound             404 (code model_not_found)
    ├── PayloadTooLarge               413 request_too_large
    ├── RateLimited                   429 rate_limit_error
    ├── Conflict                      409 conflict_error
    ├── Refused                       any 4xx/5xx a hook chose (relaygate.hooks)
    └── UpstreamError                 502 upstream_error
        ├── UpstreamRejected          4xx relayed from the upstream, with its message
        ├── MalformedStream           502 (an upstream event stream that cannot be read)
        ├── UpstreamUnavailable       503 (overloaded, breaker open)
        └── UpstreamTimeout           504

agents/tools/errors.py hangs the tool errors (ToolNotFound, ToolDenied, ToolFailed…) on
this same tree, so every front renders them too.
"""

from __future__ import annotations


class GatewayError(Exception):
    status: int = 500
    type: str = "api_error"
    default_code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else self.default_code
        if status is not None:
            self.status = status
        self.retry_after = retry_after
        self.headers = headers  # sent with the error response (e.g. x-ratelimit-*)


class InvalidRequest(GatewayError):
    status = 400
    type = "invalid_request_error"


def unsupported(provider: object, what: str) -> InvalidRequest:
    """A 400 for a route whose provider cannot serve this kind of call (embeddings…)."""
    name = getattr(provider, "name", "?")
    return InvalidRequest(
        f"The provider '{name}' does not offer {what}; route this model to one that does.",
        param="model", code="model_not_supported",
    )


class UnsupportedContent(InvalidRequest):
    status = 422
    default_code = "unsupported_content"


class AuthenticationFailed(GatewayError):
    status = 401
    type = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDenied(GatewayError):
    status = 403
    type = "permission_error"
    default_code = "permission_denied"


class NotFound(GatewayError):
    status = 404
    type = "not_found_error"
    default_code = "not_found"


class ModelNotFound(NotFound):
    type = "invalid_request_error"
    default_code = "model_not_found"


class PayloadTooLarge(GatewayError):
    status = 413
    type = "invalid_request_error"
    default_code = "request_too_large"


class Conflict(GatewayError):
    status = 409
    type = "invalid_request_error"
    default_code = "conflict"


class RateLimited(GatewayError):
    status = 429
    type = "rate_limit_error"
    default_code = "rate_limit_exceeded"


_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


class Refused(GatewayError):
    """A hook refused the call: `raise Refused(403, "not during the freeze")`."""

    def __init__(self, status: int, message: str, *, code: str | None = None) -> None:
        super().__init__(message, status=status, code=code or "refused_by_hook")
        self.type = _TYPE_BY_STATUS.get(status, "api_error")


class ShuttingDown(GatewayError):
    """The gateway's shutdown grace period ended while this request still waited."""

    status = 503
    type = "server_shutdown"
    default_code = "server_shutdown"


class UpstreamError(GatewayError):
    status = 502
    type = "upstream_error"
    default_code = "bad_gateway"


class UpstreamRejected(UpstreamError):
    """The upstream refused the request (4xx); status and message are the upstream's."""

    type = "invalid_request_error"
    default_code = "upstream_rejected"


class MalformedStream(UpstreamError):
    """An upstream's event stream cannot be read: a line that is not UTF-8 (the SSE parser
    raises it), an event that is not a JSON object."""


class UpstreamUnavailable(UpstreamError):
    status = 503
    default_code = "upstream_unavailable"


class UpstreamTimeout(UpstreamError):
    status = 504
    default_code = "upstream_timeout"
