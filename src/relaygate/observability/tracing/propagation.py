"""The trace headers (`traceparent`, `tracestate`) the next upstream request carries.

Set by the attempt's span while tracing is on; read by the one HTTP executor
(`providers/http.py`) as it writes a request head. A leaf: no OpenTelemetry import.
"""

from __future__ import annotations

from contextvars import ContextVar

OUTGOING_TRACE: ContextVar[dict[str, str] | None] = ContextVar("relaygate_outgoing_trace",
                                                              default=None)
