"""Which kind of failure an upstream error is: what retries, fallbacks and metrics go by.

Context-length errors as each vendor reports them: OpenAI `context_length_exceeded`,
Anthropic "prompt is too long: N tokens > M maximum", Gemini "The input token count (N)
exceeds the maximum number of tokens allowed (M)"; content filters: OpenAI/Azure
`content_policy_violation` / `content_filter`.
"""

from __future__ import annotations

import re

from relaygate.errors import (
    GatewayError,
    MalformedStream,
    RateLimited,
    ShuttingDown,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from relaygate.routing.settings import FailureClass

CONTEXT_CODES = frozenset({"context_length_exceeded", "string_above_max_length"})
CONTEXT_MESSAGE = re.compile(
    r"prompt is too long|context length|context window|maximum context|"
    r"input token count .* exceeds|too many tokens|reduce the length",
    re.IGNORECASE,
)
POLICY_CODES = frozenset({"content_policy_violation", "content_filter"})
POLICY_MESSAGE = re.compile(r"content (management )?policy|content filter", re.IGNORECASE)
CONNECTION_MESSAGE = re.compile(r"could not reach|broke off|connection", re.IGNORECASE)
MALFORMED_MESSAGE = re.compile(r"malformed|ended the stream without", re.IGNORECASE)


def classify(error: GatewayError) -> FailureClass:
    """The failure class of an error raised by one upstream attempt."""
    if isinstance(error, ShuttingDown):
        return FailureClass.REJECTED
    if isinstance(error, RateLimited) or error.status == 429:
        return FailureClass.RATE_LIMIT
    if isinstance(error, UpstreamTimeout):
        return FailureClass.TIMEOUT
    if isinstance(error, UpstreamRejected) or (
        not isinstance(error, UpstreamError) and 400 <= error.status < 500
    ):
        code = error.code or ""
        if code in CONTEXT_CODES or CONTEXT_MESSAGE.search(error.message):
            return FailureClass.CONTEXT_LENGTH
        if code in POLICY_CODES or POLICY_MESSAGE.search(error.message):
            return FailureClass.CONTENT_POLICY
        return FailureClass.REJECTED
    if isinstance(error, MalformedStream) or MALFORMED_MESSAGE.search(error.message):
        return FailureClass.MALFORMED
    if isinstance(error, UpstreamUnavailable):
        return FailureClass.SERVER_ERROR
    if isinstance(error, UpstreamError):
        if CONNECTION_MESSAGE.search(error.message):
            return FailureClass.CONNECTION
        return FailureClass.SERVER_ERROR
    return FailureClass.REJECTED
