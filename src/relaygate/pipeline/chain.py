"""The pipeline: the ordered steps every model call passes, then the dispatch.

Each step is `async def step(call, next) -> Answer` and calls `next(call)` to go on (or
answers, or raises, without it). The list is built once, in `app.model_call_steps`, in
the order the steps run; `Pipeline` composes it the way Starlette composes middleware.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, cast

from relaygate.errors import GatewayError
from relaygate.pipeline.call import Answer, Call
from relaygate.routing.registry import Route
from relaygate.types import ModelResult, StreamEvent

Next = Callable[[Call], Awaitable[Answer]]
Step = Callable[[Call, Next], Awaitable[Answer]]


def _bound(step: Step, next: Next) -> Next:
    """`step` with the rest of the chain as its `next` (a C-level partial: no extra frame)."""
    return cast(Next, functools.partial(cast(Any, step), next=next))


def _chain(steps: Sequence[Step], dispatch: Next) -> Next:
    handler = dispatch
    for step in reversed(steps):
        handler = _bound(step, handler)
    return handler


class Pipeline:
    def __init__(
        self, steps: Sequence[Step], dispatch: Next, wrap: Callable[[Step], Step] | None = None,
        recording: Callable[[], bool] | None = None,
    ) -> None:
        """`wrap`, when given, wraps every step of a second chain (tracing: a span per step,
        observability/tracing/tracer.py); `recording` picks it per call (a kept trace), the
        plain chain otherwise. Without `wrap` the chain is the steps as they are."""
        plain = _chain(steps, dispatch)
        if wrap is None:
            self.run: Next = plain  # the first step, bound to the rest: `await pipeline.run(call)`
        else:
            traced = _chain([wrap(step) for step in steps], dispatch)
            if recording is None:
                self.run = traced
            else:
                def run(call: Call) -> Awaitable[Answer]:  # no frame of its own on the await
                    return traced(call) if recording() else plain(call)

                self.run = run
        self.steps = tuple(steps)

    async def complete(self, call: Call) -> tuple[Route, ModelResult]:
        """A canonical caller's whole answer (sessions, Responses, the agent loop)."""
        call.stream = False
        answer = await self.run(call)
        if answer.result is None:
            raise GatewayError("The pipeline answered a canonical call with relayed bytes.")
        return answer.route, answer.result

    async def stream(self, call: Call) -> tuple[Route, AsyncIterator[StreamEvent]]:
        """A canonical caller's stream; its first event has arrived (earlier failures raised)."""
        call.stream = True
        answer = await self.run(call)
        if answer.events is None:
            raise GatewayError("The pipeline answered a canonical call with relayed bytes.")
        return answer.route, answer.events
