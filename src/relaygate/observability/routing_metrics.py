"""Per-deployment metrics of routed groups: attempts by status, failures by class, breaker
state, latency. On the gateway's own registry, next to the request metrics.

Plain cells (observability/cells.py), each deployment's found once and kept: an attempt
costs a few list additions, not prometheus_client's three `labels()` lookups and locks."""

from __future__ import annotations

from bisect import bisect_left

from prometheus_client import CollectorRegistry

from relaygate.observability.cells import CellsCollector, CounterCells, GaugeCells, HistogramCells
from relaygate.observability.metrics import LATENCY_BUCKETS
from relaygate.pipeline.outcome import Outcome
from relaygate.routing.deployments import Deployment
from relaygate.routing.groups import Router
from relaygate.routing.settings import FailureClass


class _DeploymentCells:
    """One deployment's cells; an attempts cell per status, made at its first use. Its
    `observe` is the deployment's outcome listener (no lookup of the cells per attempt)."""

    __slots__ = ("_buckets", "_metrics", "attempts", "breaker", "failures", "latency")

    def __init__(self, metrics: RoutingMetrics, deployment: Deployment) -> None:
        self._metrics = metrics
        self.attempts: dict[int, list[float]] = {}
        self.failures: dict[FailureClass, list[float]] = {}
        self.latency = metrics.latency.cell(deployment.group, deployment.id)
        self._buckets = metrics.latency.buckets
        self.breaker: list[float] | None = None  # made at the first set, as a labelled gauge

    def observe(self, deployment: Deployment, outcome: Outcome) -> None:
        """After each of the deployment's attempts."""
        status = outcome.status
        attempts = self.attempts.get(status)
        if attempts is None:
            attempts = self.attempts[status] = self._metrics.attempts.cell(
                deployment.group, deployment.id, str(status))
        attempts[0] += 1
        if status < 400:
            sample = outcome.ttft_s if outcome.ttft_s is not None else outcome.latency_s
            latency = self.latency  # HistogramCells.observe, inline: once per attempt
            latency[bisect_left(self._buckets, sample)] += 1
            latency[-1] += sample
        breaker = self.breaker  # inline: once per attempt
        if breaker is None:
            breaker = self.breaker = self._metrics.breaker.cell(deployment.group, deployment.id)
        breaker[0] = float(deployment.breaker.state)


class RoutingMetrics:
    def __init__(self, registry: CollectorRegistry, router: Router) -> None:
        self.attempts = CounterCells(
            "relaygate_deployment_attempts", "Upstream attempts per deployment, by status.",
            ["model", "deployment", "status"],
        )
        self.failures = CounterCells(
            "relaygate_deployment_failures", "Failed attempts per deployment, by failure class.",
            ["model", "deployment", "class"],
        )
        self.latency = HistogramCells(
            "relaygate_deployment_seconds", "An attempt's time to its first item (streams) or end.",
            ["model", "deployment"], LATENCY_BUCKETS,
        )
        self.breaker = GaugeCells(
            "relaygate_deployment_breaker_state",
            "Circuit breaker per deployment: 0 closed, 1 half-open, 2 open.",
            ["model", "deployment"],
        )
        registry.register(CellsCollector([self.attempts, self.failures, self.latency,
                                          self.breaker]))
        self._cells: dict[str, _DeploymentCells] = {}
        for deployment in router.deployments.values():
            cells = self._cells[deployment.id] = _DeploymentCells(self, deployment)
            deployment.on_outcome = cells.observe
        router.failure_listener = self.failed

    def failed(self, deployment: Deployment, kind: FailureClass) -> None:
        """An attempt failed before its answer began (the attempts loop's listener)."""
        cells = self._cells[deployment.id]
        failures = cells.failures.get(kind)
        if failures is None:
            failures = cells.failures[kind] = self.failures.cell(
                deployment.group, deployment.id, kind.value)
        failures[0] += 1
        self._set_breaker(cells, deployment)

    def _set_breaker(self, cells: _DeploymentCells, deployment: Deployment) -> None:
        if cells.breaker is None:
            cells.breaker = self.breaker.cell(deployment.group, deployment.id)
        cells.breaker[0] = float(deployment.breaker.state)
