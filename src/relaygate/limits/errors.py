"""The refusals of the limits step, on the gateway's error tree (fronts render them)."""

from __future__ import annotations

from relaygate.errors import GatewayError, RateLimited


class LimitExceeded(RateLimited):
    """429: OpenAI's body says which budget ran out in `type` ("requests" or "tokens");
    Anthropic renders `rate_limit_error`, Gemini `RESOURCE_EXHAUSTED`."""

    def __init__(
        self,
        message: str,
        *,
        family: str,
        code: str = "rate_limit_exceeded",
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, code=code, retry_after=retry_after, headers=headers)
        self.type = family


class LimitsUnavailable(GatewayError):
    """503: the shared limit store (Redis) failed and `limits.on_redis_error` is `deny`."""

    status = 503
    type = "api_error"
    default_code = "rate_limiter_unavailable"


class StoreFailed(Exception):
    """The shared limit store could not answer (the step fails open or closed)."""
