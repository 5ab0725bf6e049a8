"""The rate-limit headers on every response: OpenAI's `x-ratelimit-*` names (which the
openai SDK and others read), Anthropic's `anthropic-ratelimit-*` on `/v1/messages`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from relaygate.limits.meters import Kind, Meter

# (limit, remaining, reset) header names of each family, encoded once
_OPENAI_NAMES = {family: (f"x-ratelimit-limit-{family}".encode(),
                          f"x-ratelimit-remaining-{family}".encode(),
                          f"x-ratelimit-reset-{family}".encode())
                 for family in ("requests", "tokens")}
_ANTHROPIC_NAMES = {family: (f"anthropic-ratelimit-{family}-limit".encode(),
                             f"anthropic-ratelimit-{family}-remaining".encode(),
                             f"anthropic-ratelimit-{family}-reset".encode())
                    for family in ("requests", "tokens")}


def duration(seconds: float) -> str:
    """OpenAI's reset format: "20ms", "1.5s", "6m0s", "1h2m3s"."""
    if seconds < 1:
        return f"{max(round(seconds * 1000), 0)}ms"
    if seconds < 60:  # an rpm window's reset, on every response
        return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.3f}".rstrip("0").rstrip(".") + "s"
    text = f"{int(minutes)}m{text}"
    if hours:
        text = f"{int(hours)}h{text}"
    return text


def _instant(seconds: float) -> str:
    """Anthropic's reset format: the RFC 3339 time, `seconds` from now."""
    reset = datetime.now(UTC) + timedelta(seconds=seconds)
    return reset.isoformat(timespec="seconds").replace("+00:00", "Z")


def rate_limit_headers(meters: Sequence[Meter], anthropic: bool) -> dict[str, str]:
    """`rate_limit_pairs` as text (a refusal's headers)."""
    return {name.decode(): value.decode() for name, value in rate_limit_pairs(meters, anthropic)}


@lru_cache(maxsize=256)
def _number(value: int) -> bytes:
    """A limit's figure (the same few on every response), formatted once."""
    return str(value).encode()


def rate_limit_pairs(meters: Sequence[Meter], anthropic: bool) -> list[tuple[bytes, bytes]]:
    """For requests (rpm) and for tokens (tpm, tokens per day): the limit with the least
    left, what is left of it and when it resets, as encoded header pairs. Concurrency has
    no header."""
    requests: Meter | None = None
    tokens: Meter | None = None
    for meter in meters:
        kind = meter.kind
        if kind is Kind.RPM:
            if requests is None or meter.remaining < requests.remaining:
                requests = meter
        elif kind is not Kind.MAX_CONCURRENT and (
            tokens is None or meter.remaining < tokens.remaining
        ):
            tokens = meter
    pairs: list[tuple[bytes, bytes]] = []
    names = _ANTHROPIC_NAMES if anthropic else _OPENAI_NAMES
    for family, tightest in (("requests", requests), ("tokens", tokens)):
        if tightest is not None:
            limit, remaining, reset = names[family]
            pairs.append((limit, _number(tightest.limit)))
            pairs.append((remaining, str(tightest.remaining).encode()))
            pairs.append((reset, (_instant(tightest.reset_seconds) if anthropic
                                  else duration(tightest.reset_seconds)).encode()))
    return pairs
