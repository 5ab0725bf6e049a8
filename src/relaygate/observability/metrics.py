"""Prometheus metrics on a registry owned by the Gateway (never the process-global one)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

from relaygate.pipeline.context import RequestContext

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class GatewayMetrics:
    """Requests, latency and tokens by model, provider and tenant."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "relaygate_requests", "Model requests served, by outcome.",
            ["model", "provider", "tenant", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "relaygate_request_seconds", "Time from request to the end of the response.",
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

    def record(self, context: RequestContext, status: int, seconds: float) -> None:
        """Count one finished model request (requests that named no model are not counted)."""
        if context.model is None:
            return
        children = self._children_for(
            context.model, context.provider or "", context.tenant or "", status
        )
        children.requests.inc()
        children.latency.observe(seconds)
        usage = context.usage
        if usage is not None:
            children.input_tokens.inc(usage.input_tokens)
            children.output_tokens.inc(usage.output_tokens)


@dataclass(frozen=True, slots=True)
class _Children:
    requests: Counter
    latency: Histogram
    input_tokens: Counter
    output_tokens: Counter
