"""Settings of routing and resilience: `routing:` in the YAML (docs/routing.md).

Kept apart from `config.py` (which imports these): strategies, retries, breakers, timeouts,
fallback chains, task rules, health checks. `routing_problems` finds what cannot work (a
fallback to an unknown group, a cycle, a rule to nowhere) so start-up refuses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Strategy(StrEnum):
    WEIGHTED = "weighted"  # random by weight (the default)
    ROUND_ROBIN = "round_robin"
    LEAST_BUSY = "least_busy"  # fewest calls in flight
    LATENCY = "latency"  # lowest moving average, with some exploration
    COST = "cost"  # cheapest for the call's estimated tokens
    USAGE = "usage"  # the most room under its own rpm/tpm


class FailureClass(StrEnum):
    """Why an upstream call failed, as retries and metrics see it."""

    RATE_LIMIT = "rate_limit"  # 429
    SERVER_ERROR = "server_error"  # 5xx
    TIMEOUT = "timeout"  # 504: no answer in time, a stalled stream
    CONNECTION = "connection"  # refused, reset, cut
    MALFORMED = "malformed"  # a reply that cannot be read
    CONTEXT_LENGTH = "context_length"  # the input is too long for the model
    CONTENT_POLICY = "content_policy"  # the upstream's content filter refused it
    REJECTED = "rejected"  # any other 4xx: the request itself is wrong (never retried)


RETRYABLE = (
    FailureClass.RATE_LIMIT,
    FailureClass.SERVER_ERROR,
    FailureClass.TIMEOUT,
    FailureClass.CONNECTION,
    FailureClass.MALFORMED,
)


class RetrySettings(_Strict):
    """How many more attempts after the first, and how long to wait between them."""

    count: int | None = Field(default=None, ge=0)  # None: one per other deployment of the group
    on: list[FailureClass] = Field(default_factory=lambda: list(RETRYABLE))
    backoff_seconds: float = Field(default=0.25, ge=0)  # base of exponential full jitter
    max_backoff_seconds: float = Field(default=8.0, ge=0)
    max_retry_after_seconds: float = Field(default=30.0, ge=0)  # an upstream's Retry-After, capped


class BreakerSettings(_Strict):
    """Open after `failures` in a row, or an error rate over `window_seconds`; cool down; probe."""

    enabled: bool = True
    failures: int = Field(default=5, gt=0)
    error_rate: float = Field(default=0.5, gt=0, le=1)
    min_calls: int = Field(default=20, gt=0)  # calls in the window before the rate counts
    window_seconds: float = Field(default=30.0, gt=0)
    cooldown_seconds: float = Field(default=30.0, ge=0)
    rate_limit_cooldown_seconds: float = Field(default=5.0, ge=0)  # a 429 without Retry-After


class GroupSettings(_Strict):
    """One group's routing (or the default for every group)."""

    strategy: Strategy | None = None
    retries: RetrySettings | None = None
    breaker: BreakerSettings | None = None
    exploration: float | None = Field(default=None, ge=0, le=1)  # `latency`: chance to explore


class TimeoutsSettings(_Strict):
    """A deployment's timeouts in seconds; `connect` unset: the provider's `timeout.connect`."""

    connect: float | None = Field(default=None, gt=0)  # a new connection to the upstream
    first_byte: float | None = Field(default=None, gt=0)  # the whole reply, or a stream's first item
    total: float | None = Field(default=None, gt=0)
    stream_idle: float | None = Field(default=None, gt=0)  # no chunk for this long ends a stream


class RuleWhen(_Strict):
    """Conditions of a task rule; all given must hold."""

    tags: list[str] | None = None  # any of these (metadata.tags or x-relaygate-tags)
    has_tools: bool | None = None
    has_images: bool | None = None
    input_tokens_over: int | None = Field(default=None, ge=0)
    last_user_matches: str | None = None  # a regex searched in the last user message
    tenant: str | None = None


class RuleSettings(_Strict):
    """A task rule: calls for one of `models` (or any, when none) that match `when` go `to`
    a group or a deployment id. The first rule that matches wins."""

    when: RuleWhen
    to: str
    models: list[str] | None = None


class HealthCheckSettings(_Strict):
    """A cheap call to each deployment of `models` (all routed groups, when none) at an interval."""

    interval_seconds: float = Field(default=0.0, ge=0)  # 0: off
    timeout_seconds: float = Field(default=10.0, gt=0)
    models: list[str] | None = None


class RoutingSettings(_Strict):
    default: GroupSettings = Field(default_factory=GroupSettings)
    models: dict[str, GroupSettings] = Field(default_factory=dict)
    fallbacks: dict[str, list[str]] = Field(default_factory=dict)
    context_window_fallbacks: dict[str, list[str]] = Field(default_factory=dict)
    content_policy_fallbacks: dict[str, list[str]] = Field(default_factory=dict)
    rules: list[RuleSettings] = Field(default_factory=list)
    health_checks: HealthCheckSettings = Field(default_factory=HealthCheckSettings)
    redis_prefix: str = "relaygate:breaker:"  # breaker state, when storage.redis_url is set

    def group(self, name: str) -> GroupSettings:
        """`models[name]` over `default`, field by field."""
        own = self.models.get(name)
        if own is None:
            return self.default
        merged = self.default.model_dump(exclude_none=True)
        merged.update(own.model_dump(exclude_none=True))
        return GroupSettings.model_validate(merged)

    def configured(self, name: str) -> bool:
        """Whether anything of `routing:` concerns the group `name` (else it is a plain route)."""
        return (
            name in self.models
            or name in self.fallbacks
            or name in self.context_window_fallbacks
            or name in self.content_policy_fallbacks
        )


def routing_problems(
    routing: RoutingSettings, groups: Iterable[str], deployment_ids: Iterable[str]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(location under `routing`, message) for each thing that cannot work."""
    names = set(groups)
    targets = names | set(deployment_ids)
    for name in routing.models:
        if name not in names:
            yield ("models", name), f"unknown model group {name!r}"
    chains = {
        "fallbacks": routing.fallbacks,
        "context_window_fallbacks": routing.context_window_fallbacks,
        "content_policy_fallbacks": routing.content_policy_fallbacks,
    }
    for field_name, chain in chains.items():
        for source, fallbacks in chain.items():
            if source not in names:
                yield (field_name, source), f"unknown model group {source!r}"
            for index, target in enumerate(fallbacks):
                if target not in names:
                    yield (field_name, source, index), f"fallback to unknown model group {target!r}"
                elif target == source:
                    yield (field_name, source, index), f"{source!r} falls back to itself"
    cycle = _cycle(routing.fallbacks)
    if cycle:
        yield ("fallbacks", cycle[0]), "fallback cycle: " + " -> ".join(cycle)
    for index, rule in enumerate(routing.rules):
        if rule.to not in targets:
            yield ("rules", index, "to"), f"rule to unknown model group or deployment {rule.to!r}"
        for model in rule.models or ():
            if model not in names:
                yield ("rules", index, "models"), f"unknown model group {model!r}"
    for model in routing.health_checks.models or ():
        if model not in names:
            yield ("health_checks", "models"), f"unknown model group {model!r}"


def _cycle(chains: dict[str, list[str]]) -> list[str] | None:
    """A cycle in the fallback graph, as the path that closes it, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node):], node]
        if node in done:
            return None
        for target in chains.get(node, ()):
            if target != node:
                found = visit(target, [*path, node])
                if found:
                    return found
        done.add(node)
        return None

    for start in chains:
        found = visit(start, [])
        if found:
            return found
    return None
