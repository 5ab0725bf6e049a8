"""A ledger row: what the usage ledger keeps of one upstream call's outcome."""

from __future__ import annotations

import functools
import time
from typing import NamedTuple

from relaygate.pipeline.outcome import Outcome


class LedgerRow(NamedTuple):
    """A tuple, so a batch goes to the driver's `executemany` as it is: building 500 rows
    on the event loop was the flush's pause (a dataclass and a tuple of it per row)."""

    at: float  # unix seconds, when the call ended
    day: str  # the UTC day of `at`, YYYY-MM-DD (what `group_by=day` groups on)
    request_id: str
    tenant: str
    key_id: str | None
    key_name: str | None
    endpoint: str
    model: str  # as the client named it
    provider: str  # the provider that served
    upstream_model: str
    input_tokens: int  # the cached ones included
    output_tokens: int
    cached_tokens: int
    cost_usd: float | None  # None: no price known for the served model
    latency_ms: float
    ttft_ms: float | None
    status: int
    error: str | None
    cache_hit: bool
    stream: bool
    session_id: str | None
    prompt_id: str | None = None  # the prompt template that filled the call
    prompt_version: int | None = None
    saved_usd: float | None = None  # a cache hit: what the original call cost


def utc_day(at: float) -> str:
    """The UTC day of `at` as YYYY-MM-DD, formatted once per day, not once per row."""
    return _day_named(int(at // 86_400))


@functools.lru_cache(maxsize=4)
def _day_named(number: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(number * 86_400))


def row_of(at: float, outcome: Outcome) -> LedgerRow:
    """The ledger row of an outcome that ended at `at`."""
    usage = outcome.usage
    principal = outcome.principal
    ttft = outcome.ttft_s
    return LedgerRow(
        at=at,
        day=utc_day(at),
        request_id=outcome.request_id,
        tenant=principal.tenant,
        key_id=principal.key_id,
        key_name=principal.key_name,
        endpoint=outcome.endpoint,
        model=outcome.model,
        provider=outcome.provider,
        upstream_model=outcome.upstream_model,
        input_tokens=usage.input_tokens if usage is not None else 0,
        output_tokens=usage.output_tokens if usage is not None else 0,
        cached_tokens=usage.cached_tokens if usage is not None else 0,
        cost_usd=outcome.cost_usd,
        latency_ms=outcome.latency_s * 1000,
        ttft_ms=ttft * 1000 if ttft is not None else None,
        status=outcome.status,
        error=outcome.error,
        cache_hit=outcome.cache_hit,
        stream=outcome.stream,
        session_id=outcome.session_id,
        prompt_id=outcome.prompt_id,
        prompt_version=outcome.prompt_version,
        saved_usd=outcome.saved_usd,
    )
