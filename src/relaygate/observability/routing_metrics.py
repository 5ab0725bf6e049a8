"""Per-deployment metrics of routed groups: attempts by status, failures by class, breaker
state, latency. On the gateway's own registry, next to the request metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from relaygate.observability.metrics import LATENCY_BUCKETS
from relaygate.pipeline.outcome import Outcome
from relaygate.routing.deployments import Deployment
from relaygate.routing.groups import Router
from relaygate.routing.settings import FailureClass


class RoutingMetrics:
    def __init__(self, registry: CollectorRegistry, router: Router) -> None:
        self.attempts = Counter(
            "relaygate_deployment_attempts", "Upstream attempts per deployment, by status.",
            ["model", "deployment", "status"], registry=registry,
        )
        self.failures = Counter(
            "relaygate_deployment_failures", "Failed attempts per deployment, by failure class.",
            ["model", "deployment", "class"], registry=registry,
        )
        self.latency = Histogram(
            "relaygate_deployment_seconds", "An attempt's time to its first item (streams) or end.",
            ["model", "deployment"], buckets=LATENCY_BUCKETS, registry=registry,
        )
        self.breaker = Gauge(
            "relaygate_deployment_breaker_state",
            "Circuit breaker per deployment: 0 closed, 1 half-open, 2 open.",
            ["model", "deployment"], registry=registry,
        )
        self._router = router
        router.on_outcome(self.observe)
        router.failure_listener = self.failed

    def observe(self, deployment: Deployment, outcome: object) -> None:
        """After each attempt's outcome (a deployment's listener)."""
        assert isinstance(outcome, Outcome)
        self.attempts.labels(deployment.group, deployment.id, str(outcome.status)).inc()
        if outcome.status < 400:
            sample = outcome.ttft_s if outcome.ttft_s is not None else outcome.latency_s
            self.latency.labels(deployment.group, deployment.id).observe(sample)
        self.breaker.labels(deployment.group, deployment.id).set(deployment.breaker.state)

    def failed(self, deployment: Deployment, kind: FailureClass) -> None:
        """An attempt failed before its answer began (the attempts loop's listener)."""
        self.failures.labels(deployment.group, deployment.id, kind.value).inc()
        self.breaker.labels(deployment.group, deployment.id).set(deployment.breaker.state)
