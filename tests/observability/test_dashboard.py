"""The Grafana dashboard in docs/ queries only metrics the gateway exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from relaygate.observability.metrics import GatewayMetrics

DASHBOARD = Path(__file__).parents[2] / "docs" / "grafana-dashboard.json"
ELSEWHERE = {  # registered by other parts, on the same registry
    "relaygate_limit_rejections_total", "relaygate_deployment_breaker_state",
    "relaygate_ledger_rows_queued", "relaygate_in_flight_calls",
    "relaygate_turn_pool_queue_depth", "relaygate_background_runs_running",
}


def test_every_metric_the_dashboard_queries_exists() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {re.sub(r"_(bucket|count|sum)$", "", name)
            for expr in exprs for name in re.findall(r"relaygate_[a-z_]+", expr)}
    exported = {sample_name for metric in GatewayMetrics().registry.collect()
                for sample_name in (metric.name, f"{metric.name}_total")}
    assert used - exported - ELSEWHERE == set()
    assert len(dashboard["panels"]) >= 10
