"""Each vendor's failures as the retries and fallbacks see them, from the providers' own
error mapping (providers/failures.py) of real error bodies."""

from __future__ import annotations

import pytest

from relaygate.errors import GatewayError, MalformedStream, UpstreamError, UpstreamTimeout
from relaygate.providers.failures import upstream_failure
from relaygate.routing.failures import classify
from relaygate.routing.settings import FailureClass


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (upstream_failure("openai", 400, "This model's maximum context length is 8192 tokens.",
                          {}, "context_length_exceeded"), FailureClass.CONTEXT_LENGTH),
        (upstream_failure("anthropic", 400, "prompt is too long: 210000 tokens > 200000 maximum",
                          {}, "invalid_request_error"), FailureClass.CONTEXT_LENGTH),
        (upstream_failure("gemini", 400, "The input token count (1200000) exceeds the maximum "
                          "number of tokens allowed (1048576).", {}, "INVALID_ARGUMENT"),
         FailureClass.CONTEXT_LENGTH),
        (upstream_failure("azure", 400, "The response was filtered due to the prompt "
                          "triggering Azure OpenAI's content management policy.", {},
                          "content_filter"), FailureClass.CONTENT_POLICY),
        (upstream_failure("openai", 400, "Invalid value for 'temperature'.", {}, None),
         FailureClass.REJECTED),
        (upstream_failure("openai", 429, "slow down", {"retry-after": "2"}),
         FailureClass.RATE_LIMIT),
        (upstream_failure("anthropic", 529, "Overloaded", {}), FailureClass.SERVER_ERROR),
        (upstream_failure("openai", 500, "boom", {}), FailureClass.SERVER_ERROR),
        (UpstreamTimeout("did not answer in time"), FailureClass.TIMEOUT),
        (UpstreamError("Could not reach the upstream provider 'a': connection refused"),
         FailureClass.CONNECTION),
        (UpstreamError("The upstream provider 'a' broke off the stream: reset"),
         FailureClass.CONNECTION),
        (UpstreamError("The upstream provider 'a' returned a malformed response."),
         FailureClass.MALFORMED),
        (MalformedStream("not a JSON object"), FailureClass.MALFORMED),
    ],
)
def test_failures_are_classified(error: GatewayError, kind: FailureClass) -> None:
    assert classify(error) is kind


def test_a_rate_limit_keeps_its_retry_after() -> None:
    assert upstream_failure("openai", 429, "slow down", {"retry-after": "2"}).retry_after == 2.0
