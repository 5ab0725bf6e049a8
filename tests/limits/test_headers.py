"""The reset durations and the tightest limit of each family, as the headers say them."""

from __future__ import annotations

from relaygate.limits.headers import duration, rate_limit_headers
from relaygate.limits.meters import Kind, Meter


def test_reset_durations_in_openai_format() -> None:
    assert [duration(s) for s in (0.02, 0.9996, 1.5, 59.25, 60, 360, 3723)] == [
        "20ms", "1000ms", "1.5s", "59.25s", "1m0s", "6m0s", "1h2m3s"]


def _meter(owner: str, kind: Kind, limit: int, remaining: int, reset: float) -> Meter:
    meter = Meter(owner, kind, limit, 1)
    meter.remaining, meter.reset_seconds = remaining, reset
    return meter


def test_each_family_names_its_tightest_limit_and_concurrency_has_none() -> None:
    meters = [_meter("key:k", Kind.RPM, 100, 90, 30), _meter("tenant:t", Kind.RPM, 50, 4, 12),
              _meter("key:k", Kind.TPM, 9000, 800, 0.5),
              _meter("key:k", Kind.TOKENS_PER_DAY, 10**6, 5000, 7200),
              _meter("key:k", Kind.MAX_CONCURRENT, 3, 0, 0)]
    assert rate_limit_headers(meters, anthropic=False) == {
        "x-ratelimit-limit-requests": "50", "x-ratelimit-remaining-requests": "4",
        "x-ratelimit-reset-requests": "12s",
        "x-ratelimit-limit-tokens": "9000", "x-ratelimit-remaining-tokens": "800",
        "x-ratelimit-reset-tokens": "500ms",
    }
    anthropic = rate_limit_headers(meters[:1], anthropic=True)
    assert set(anthropic) == {"anthropic-ratelimit-requests-limit",
                              "anthropic-ratelimit-requests-remaining",
                              "anthropic-ratelimit-requests-reset"}
    assert anthropic["anthropic-ratelimit-requests-reset"].endswith("Z")
