"""Guardrail hits as a metric and a log line: guard, action, where, tenant, request id."""

from __future__ import annotations

from prometheus_client import Counter

from relaygate.observability.logging import get_logger
from relaygate.pipeline.call import GuardHit

_log = get_logger("relaygate.guardrails")


class GuardMetrics:
    def __init__(self, hits: Counter) -> None:
        self.hits = hits  # the gateway's `relaygate_guardrail_hits` (observability/metrics.py)

    def record(self, hit: GuardHit, tenant: str, request_id: str | None) -> None:
        self.hits.labels(hit.guard, hit.action, hit.where, hit.entity, tenant).inc()
        _log.info("guardrail hit", guard=hit.guard, action=hit.action, where=hit.where,
                  entity=hit.entity, tenant=tenant, request_id=request_id)
