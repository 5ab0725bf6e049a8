"""The outcome event: one typed record per upstream call, and the sinks that read it.

`Attempt` measures one upstream call and emits its `Outcome` exactly once: when a whole
answer arrives, when a stream ends, fails, or is closed because the client went away.
Metrics, the request log, session cost, the usage ledger and (later) budgets and traces read
the outcome; nothing reads usage from anywhere else.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from relaygate.errors import GatewayError
from relaygate.observability.logging import get_logger
from relaygate.pipeline.auth import Principal
from relaygate.pipeline.call import Call, GuardHit
from relaygate.routing.registry import Route, cost_of
from relaygate.types import Usage, UsageSource

_log = get_logger("relaygate.outcome")

CLIENT_CLOSED = 499  # nginx's status for "the client went away first"


@dataclass(slots=True)  # not frozen: a frozen slots dataclass is slow to build
class Outcome:
    request_id: str
    principal: Principal
    endpoint: str
    model: str  # as the client named it
    provider: str  # the provider that served
    upstream_model: str
    stream: bool
    relayed: bool
    attempt: int  # 1 for the first upstream call of this Call
    status: int  # 200, the error's status, or 499 when the client went away
    error: str | None  # the error's code or type
    usage: Usage | None
    latency_s: float
    ttft_s: float | None  # streams: time to the first item
    cost_usd: float | None  # at the served route's prices; None when it has none
    session_id: str | None = None
    cache_hit: bool = False  # answered from the gateway's response cache, not the upstream
    deployment: str | None = None  # the deployment id (docs/routing.md), when routed
    prompt_id: str | None = None  # the prompt template that filled the call (prompts/)
    prompt_version: int | None = None
    guard_hits: list[GuardHit] | None = None  # the call's guardrail hits (its own list)
    saved_usd: float | None = None  # a cache hit: what the original call cost
    saved_tokens: int = 0  # a cache hit: the tokens the original call used
    cache_score: float | None = None  # a semantic hit: how alike the two requests were

    @property
    def usage_source(self) -> UsageSource | None:
        return self.usage.source if self.usage is not None else None


Sink = Callable[[Outcome], None]
"""Receives every outcome; must not block (queue work for later if it has to)."""


def emit(outcome: Outcome, listeners: Iterable[Sink]) -> None:
    """Give `outcome` to each listener in turn; one that raises is logged, the rest go on."""
    for listener in listeners:
        try:
            listener(outcome)
        except Exception:
            _log.exception("outcome listener failed",
                           listener=getattr(listener, "__qualname__", repr(listener)))


class Attempt:
    """One upstream call being measured; `finish` emits its outcome once, to the call's
    own observers, then to the gateway's sinks (a listener that raises is logged)."""

    __slots__ = ("_call", "_listeners", "_number", "_route", "_started", "_ttft", "done",
                 "relayed", "usage")

    def __init__(
        self, call: Call, route: Route, listeners: Sequence[Sink], relayed: bool, number: int = 1
    ) -> None:
        self._call = call
        self._route = route
        self._listeners = listeners
        self._number = number
        self._started = time.perf_counter()
        self._ttft: float | None = None
        self.relayed = relayed
        self.usage: Usage | None = None
        self.done = False

    @property
    def started(self) -> float:
        """When it began, on time.perf_counter's clock."""
        return self._started

    def first_item(self) -> None:
        if self._ttft is None:
            self._ttft = time.perf_counter() - self._started

    def finish(self, status: int = 200, error: str | None = None) -> None:
        if self.done:
            return
        self.done = True
        call, route, usage = self._call, self._route, self.usage
        outcome = Outcome(
            call.request_id,
            call.principal,
            str(call.endpoint),  # str(): a plain str, without Enum.value's two frames
            call.model,
            route.provider.name,
            route.upstream_model,
            call.stream,
            self.relayed,
            self._number,
            status,
            error,
            usage,
            time.perf_counter() - self._started,
            self._ttft,
            cost_of(usage, route) if usage is not None else None,
            call.session_id,
            False,  # cache_hit: an upstream call
            route.deployment,
            guard_hits=call.guard_hits,
        )
        if call.prompt_use is not None:
            outcome.prompt_id, outcome.prompt_version = call.prompt_use
        emit(outcome, self._listeners)

    def fail(self, error: GatewayError) -> None:
        self.finish(error.status, error.code or error.type)

    def dropped(self) -> None:
        """The client went away (or the caller stopped reading) before the end."""
        self.finish(CLIENT_CLOSED, "client_disconnected")


class Sinks:
    """The gateway's sinks, in the order they were added."""

    def __init__(self, sinks: Sequence[Sink] = ()) -> None:
        self.listeners: list[Sink] = list(sinks)

    def add(self, sink: Sink) -> None:
        self.listeners.append(sink)
