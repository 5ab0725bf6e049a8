"""OpenTelemetry traces: `current` and `propagation` are leaves (no OpenTelemetry import), the
rest loads only when `telemetry.traces` is on (docs/observability.md)."""
