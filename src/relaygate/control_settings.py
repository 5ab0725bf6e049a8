"""Settings of the control plane: the admin API, budgets, rate limits, the usage ledger.

Kept apart from `config.py` (which imports these) so each capability's settings read in
one place. Every class refuses unknown fields, so a typo is a 400 or a config error that
names the field, never a setting silently ignored.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AdminSettings(_Strict):
    """`admin: {key: ...}`; also `$RELAYGATE_ADMIN_KEY`. No key: the admin API is off."""

    key: str | None = Field(default=None, min_length=16)


class BudgetPeriod(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    TOTAL = "total"


class BudgetMode(StrEnum):
    HARD = "hard"  # a call that would cross it is refused before it is sent
    SOFT = "soft"  # calls go through; crossing 50/80/100 % alerts


class BudgetSettings(_Strict):
    """A cap on spend, in US dollars or tokens (or both), per period (UTC)."""

    max_usd: float | None = Field(default=None, gt=0)
    max_tokens: int | None = Field(default=None, gt=0)
    period: BudgetPeriod = BudgetPeriod.MONTH
    mode: BudgetMode = BudgetMode.HARD
    cut_streams: bool = False  # hard: end a stream that crosses it mid-way

    @model_validator(mode="after")
    def _some_cap(self) -> BudgetSettings:
        if self.max_usd is None and self.max_tokens is None:
            raise ValueError("a budget needs max_usd, max_tokens or both")
        return self


class LimitSettings(_Strict):
    """Rate limits: requests and tokens per minute, tokens per day, calls in flight."""

    rpm: int | None = Field(default=None, gt=0)
    tpm: int | None = Field(default=None, gt=0)
    tokens_per_day: int | None = Field(default=None, gt=0)
    max_concurrent: int | None = Field(default=None, gt=0)


class RedisFailure(StrEnum):
    ALLOW = "allow"  # fail open: serve, log, count
    DENY = "deny"  # fail closed: 503


class LimitsSettings(_Strict):
    """Limits that apply beyond a key's and its tenant's own (`limits:` in the YAML)."""

    default: LimitSettings | None = None  # every key that has none of its own
    models: dict[str, LimitSettings] = Field(default_factory=dict)  # by model name
    on_redis_error: RedisFailure = RedisFailure.ALLOW
    lease_seconds: float = Field(default=60.0, gt=0)  # a concurrency slot's expiry in Redis
    redis_prefix: str = Field(default="relaygate:limits:", min_length=1)  # of their Redis keys


class BudgetsSettings(_Strict):
    """`budgets:`: where alerts go."""

    webhook_url: str | None = None  # POSTed once per threshold crossed (50, 80, 100 %)


class LedgerSettings(_Strict):
    """The usage ledger: one row per upstream call, written in batches off the request path."""

    enabled: bool = True
    flush_interval_ms: int = Field(default=500, gt=0)
    batch_rows: int = Field(default=500, gt=0)
    queue_rows: int = Field(default=100_000, gt=0)  # rows waiting; beyond, new rows are dropped
    retention_days: int | None = Field(default=90, gt=0)  # None: kept for ever


class PromptsSettings(_Strict):
    """Prompt templates (docs/prompts.md): on when the admin API is (templates are made there)."""

    enabled: bool = True
    cache_seconds: float | None = Field(default=None, gt=0)  # None: 5 s, 60 s with Redis
