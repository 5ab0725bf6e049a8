"""The rate-limit headers on every response: OpenAI's `x-ratelimit-*` names (which the
openai SDK and others read), Anthropic's `anthropic-ratelimit-*` on `/v1/messages`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from relaygate.limits.meters import Kind, Meter

FAMILIES = (("requests", (Kind.RPM,)), ("tokens", (Kind.TPM, Kind.TOKENS_PER_DAY)))


def duration(seconds: float) -> str:
    """OpenAI's reset format: "20ms", "1.5s", "6m0s", "1h2m3s"."""
    if seconds < 1:
        return f"{max(round(seconds * 1000), 0)}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.3f}".rstrip("0").rstrip(".") + "s"
    if hours or minutes:
        text = f"{int(minutes)}m{text}"
    if hours:
        text = f"{int(hours)}h{text}"
    return text


def tightest(meters: Sequence[Meter], kinds: Sequence[Kind]) -> Meter | None:
    """Of the meters of these kinds, the one with the least left."""
    chosen: Meter | None = None
    for meter in meters:
        if meter.kind in kinds and (chosen is None or meter.remaining < chosen.remaining):
            chosen = meter
    return chosen


def rate_limit_headers(meters: Sequence[Meter], anthropic: bool) -> dict[str, str]:
    headers: dict[str, str] = {}
    for family, kinds in FAMILIES:
        meter = tightest(meters, kinds)
        if meter is None:
            continue
        if anthropic:
            reset = datetime.now(UTC) + timedelta(seconds=meter.reset_seconds)
            prefix = f"anthropic-ratelimit-{family}"
            headers[f"{prefix}-limit"] = str(meter.limit)
            headers[f"{prefix}-remaining"] = str(meter.remaining)
            headers[f"{prefix}-reset"] = reset.isoformat(timespec="seconds").replace("+00:00", "Z")
        else:
            headers[f"x-ratelimit-limit-{family}"] = str(meter.limit)
            headers[f"x-ratelimit-remaining-{family}"] = str(meter.remaining)
            headers[f"x-ratelimit-reset-{family}"] = duration(meter.reset_seconds)
    return headers
