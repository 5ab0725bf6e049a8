"""Prometheus metrics on a registry owned by the Gateway (never the process-global one)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

from relaygate.pipeline.outcome import Outcome

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class GatewayMetrics:
    """Upstream calls, their latency and tokens by model, provider and tenant: a sink of
    the pipeline's outcome events, so every path is counted once per upstream call."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "relaygate_requests", "Upstream model calls, by outcome (499: the client went away).",
            ["model", "provider", "tenant", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "relaygate_request_seconds", "Time from an upstream call's start to its end.",
            ["provider"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.tokens = Counter(
            "relaygate_tokens", "Tokens used, by direction (input/output).",
            ["model", "provider", "tenant", "direction"], registry=self.registry,
        )

        # labelled children by label values: `labels()` validates and locks on every call,
        # a quarter of the per-request cost of metrics on the hot path
        self._children: dict[tuple[str, str, str, int], _Children] = {}

    def _children_for(self, model: str, provider: str, tenant: str, status: int) -> _Children:
        key = (model, provider, tenant, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = _Children(
                self.requests.labels(model, provider, tenant, str(status)),
                self.latency.labels(provider),
                self.tokens.labels(model, provider, tenant, "input"),
                self.tokens.labels(model, provider, tenant, "output"),
            )
        return children

    def record(self, outcome: Outcome) -> None:
        """Count one upstream call (the pipeline's outcome sink)."""
        children = self._children_for(
            outcome.model, outcome.provider, outcome.principal.tenant, outcome.status
        )
        children.requests.inc()
        children.latency.observe(outcome.latency_s)
        usage = outcome.usage
        if usage is not None:
            children.input_tokens.inc(usage.input_tokens)
            children.output_tokens.inc(usage.output_tokens)


@dataclass(frozen=True, slots=True)
class _Children:
    requests: Counter
    latency: Histogram
    input_tokens: Counter
    output_tokens: Counter
