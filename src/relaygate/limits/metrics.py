"""The limits' metrics, on the gateway's registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from relaygate.limits.meters import Meter


class LimitMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.rejections = Counter(
            "relaygate_limit_rejections", "Calls refused by a rate limit.",
            ["limit", "owner_kind", "owner"], registry=registry,
        )
        self.usage = Gauge(
            "relaygate_limit_usage",
            "What each limit holds (requests or tokens in its window, calls in flight), "
            "as this instance last saw it.",
            ["limit", "owner_kind", "owner"], registry=registry,
        )
        self.store_errors = Counter(
            "relaygate_limit_store_errors",
            "Checks the shared limit store (Redis) failed to answer, by what was done "
            "(allowed: failed open; denied: 503).",
            ["action"], registry=registry,
        )
        self._usage: dict[str, Gauge] = {}  # by meter key: `labels()` locks on every call

    def observe(self, meter: Meter, used: int) -> None:
        gauge = self._usage.get(meter.key)
        if gauge is None:
            gauge = self._usage[meter.key] = self.usage.labels(
                meter.kind.value, meter.owner_kind, meter.owner
            )
        gauge.set(used)

    def rejected(self, meter: Meter) -> None:
        self.rejections.labels(meter.kind.value, meter.owner_kind, meter.owner).inc()
