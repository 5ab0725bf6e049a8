"""Prometheus metrics on a registry owned by the Gateway (never the process-global one)."""

from __future__ import annotations

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

    def record(self, context: RequestContext, status: int, seconds: float) -> None:
        """Count one finished model request (requests that named no model are not counted)."""
        if context.model is None:
            return
        provider = context.provider or ""
        tenant = context.tenant or ""
        self.requests.labels(context.model, provider, tenant, str(status)).inc()
        self.latency.labels(provider).observe(seconds)
        usage = context.usage
        if usage is not None:
            self.tokens.labels(context.model, provider, tenant, "input").inc(usage.input_tokens)
            self.tokens.labels(context.model, provider, tenant, "output").inc(usage.output_tokens)
