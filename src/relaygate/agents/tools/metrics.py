"""Per-tool metrics: calls by outcome and duration, on the Gateway's own registry."""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter, Histogram

TOOL_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class ToolOutcomeKind(StrEnum):
    OK = "ok"
    FAILED = "failed"
    TIMEOUT = "timeout"
    INVALID = "invalid_arguments"
    DENIED = "denied"


class ToolMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.calls = Counter(
            "relaygate_tool_calls",
            "Tool calls, by tool and outcome (ok, failed, timeout, invalid_arguments, denied).",
            ["tool", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "relaygate_tool_duration_seconds",
            "Time spent running a tool.",
            ["tool"],
            buckets=TOOL_BUCKETS,
            registry=registry,
        )

    def record(self, tool: str, outcome: ToolOutcomeKind, seconds: float | None = None) -> None:
        self.calls.labels(tool=tool, outcome=outcome.value).inc()
        if seconds is not None:
            self.duration.labels(tool=tool).observe(seconds)

    def count(self, tool: str, outcome: ToolOutcomeKind) -> float:
        """The current count (for tests and the stats endpoint)."""
        value = self.registry.get_sample_value(
            "relaygate_tool_calls_total", {"tool": tool, "outcome": outcome.value}
        )
        return value or 0.0
