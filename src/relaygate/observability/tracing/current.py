"""The request's tracing, if any: what agent code calls to open a span.

The tracing middleware (and the realtime pool, per turn) sets `TRACING` for the work it
runs; when tracing is off nothing sets it, `span()` answers a shared no-op context manager
and nothing of OpenTelemetry is imported. A leaf: no OpenTelemetry import.

    with span("execute_tool search", {"gen_ai.tool.name": "search"}) as handle:
        ...
        if handle is not None:
            handle.set_attribute("relaygate.tool.outcome", "ok")
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar
from typing import Any, Protocol

Attributes = dict[str, Any]


class SpanHandle(Protocol):
    def set_attribute(self, key: str, value: Any) -> object: ...


class SpanSource(Protocol):
    """What `observability.tracing.tracer.Tracing` offers to code that only opens spans."""

    def span(
        self, name: str, attributes: Attributes | None = None, *, kind: str = "internal",
        root: bool = False, link_current: bool = False,
    ) -> AbstractContextManager[SpanHandle | None]: ...

    def outgoing_headers(self) -> dict[str, str]: ...


TRACING: ContextVar[SpanSource | None] = ContextVar("relaygate_tracing", default=None)
# the sampler's decision for the trace the current work is in: True kept, False dropped (then
# nothing below makes a span, nor even reads OpenTelemetry's context), None no trace yet (a
# WebSocket's own calls: each opens a trace of its own)
SAMPLED: ContextVar[bool | None] = ContextVar("relaygate_sampled", default=None)
_NOTHING: AbstractContextManager[None] = nullcontext()


def span(
    name: str, attributes: Attributes | None = None, *, kind: str = "internal",
    root: bool = False, link_current: bool = False,
) -> AbstractContextManager[SpanHandle | None]:
    """A span (current while the block runs) when tracing is on, else a no-op.

    `root`: a new trace (a background run, a realtime turn), `link_current`: linked to the
    span that was current (the request that queued it)."""
    tracing = TRACING.get()
    if tracing is None:
        return _NOTHING
    return tracing.span(name, attributes, kind=kind, root=root, link_current=link_current)


def trace_headers() -> dict[str, str]:
    """`traceparent`/`tracestate` for an outgoing request (an MCP server), or nothing."""
    tracing = TRACING.get()
    return tracing.outgoing_headers() if tracing is not None else {}
