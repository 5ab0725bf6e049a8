"""The limits' metrics, on the gateway's registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from relaygate.limits.meters import Meter
from relaygate.observability.cells import CellsCollector, GaugeCells


class LimitMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.rejections = Counter(
            "relaygate_limit_rejections", "Calls refused by a rate limit.",
            ["limit", "owner_kind", "owner"], registry=registry,
        )
        self.usage = GaugeCells(  # set on every call: a plain cell (observability/cells.py)
            "relaygate_limit_usage",
            "What each limit holds (requests or tokens in its window, calls in flight), "
            "as this instance last saw it.",
            ["limit", "owner_kind", "owner"],
        )
        registry.register(CellsCollector([self.usage]))
        self.store_errors = Counter(
            "relaygate_limit_store_errors",
            "Checks the shared limit store (Redis) failed to answer, by what was done "
            "(allowed: failed open; denied: 503).",
            ["action"], registry=registry,
        )
        self._usage: dict[str, list[float]] = {}  # each meter's cell, by the meter's key

    def observe(self, meter: Meter, used: int) -> None:
        cell = self._usage.get(meter.key)
        if cell is None:
            cell = self._usage[meter.key] = self.usage.cell(
                str(meter.kind), meter.owner_kind, meter.owner
            )
        cell[0] = used

    def rejected(self, meter: Meter) -> None:
        self.rejections.labels(str(meter.kind), meter.owner_kind, meter.owner).inc()
