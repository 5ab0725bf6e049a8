"""Attempt after attempt over a routed plan: the group's deployments in the strategy's
order (retries prefer a deployment not yet tried, skip open breakers, back off with full
jitter when they must go back to one), then its fallback chain for the kind of failure.

Every attempt is one upstream call (its own `Attempt` and outcome). Nothing is retried once
an Answer is returned: streams are primed, so a stream fails over only before its first
item; after it, the front ends the stream with its error event.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

from relaygate.errors import GatewayError, UpstreamRejected, UpstreamUnavailable
from relaygate.pipeline.call import Answer, Call
from relaygate.pipeline.deadlines import Deadlines, deadlines_for
from relaygate.pipeline.outcome import Sink
from relaygate.routing.breaker import BreakerState
from relaygate.routing.deployments import Deployment
from relaygate.routing.failures import classify
from relaygate.routing.groups import FailureListener, GroupView
from relaygate.routing.registry import Route, RoutePlan
from relaygate.routing.settings import FailureClass
from relaygate.tokens.estimate import estimate_prompt

SendAttempt = Callable[[Call, Route, int, Sink | None, Deadlines | None], Awaitable[Answer]]

ATTEMPTS_HEADER = "x-relaygate-attempts"
FALLBACK_HEADER = "x-relaygate-fallback"
_NONE: frozenset[str] = frozenset()  # no deployment tried (or skipped) yet
# x-relaygate-attempts as sent, for the counts a call usually ends with
_KEPT = 17
_ATTEMPTS = [(ATTEMPTS_HEADER.encode(), str(number).encode()) for number in range(_KEPT)]


def run_plan(call: Call, plan: RoutePlan, send: SendAttempt) -> Awaitable[Answer]:
    """The first answer the plan gets, or the last failure (raised), to await."""
    routing = plan.routing
    assert routing is not None
    run = _Run(call, send, routing.router.failure_listener)
    if not routing.group.has_fallbacks:  # the one stage raises the final error itself
        # a last stage never returns None (typing.cast is a call on the hot path)
        return run._stage(routing, plan.candidates, None, last=True)  # type: ignore[return-value]
    return run.run(routing, plan.candidates)


class _Run:
    __slots__ = ("_call", "_error", "_input_tokens", "_kind", "_number", "_on_failure", "_send",
                 "_soonest")

    def __init__(self, call: Call, send: SendAttempt, on_failure: FailureListener | None) -> None:
        self._call = call
        self._send = send
        self._on_failure = on_failure
        self._number = 0
        self._error: GatewayError | None = None
        self._kind: FailureClass | None = None
        self._soonest: float | None = None  # seconds until a skipped deployment may be tried
        self._input_tokens: int | None = None

    async def run(self, view: GroupView, routes: tuple[Route, ...]) -> Answer:
        answer = await self._stage(view, routes, None)
        if answer is not None:
            return answer
        for name in self._fallbacks(view):
            fallback = view.router.view_of(name, self._call.model)
            if fallback is None:
                continue
            answer = await self._stage(fallback, fallback.order(self._call), name)
            if answer is not None:
                return answer
        raise self._final_error(view)

    def _fallbacks(self, view: GroupView) -> tuple[str, ...]:
        group = view.group
        if self._kind is FailureClass.CONTEXT_LENGTH:
            return group.context_window_fallbacks
        if self._kind is FailureClass.CONTENT_POLICY:
            return group.content_policy_fallbacks
        return group.fallbacks

    async def _stage(
        self, view: GroupView, routes: tuple[Route, ...], fallback: str | None,
        last: bool = False,
    ) -> Answer | None:
        """Up to the group's attempts over `routes`; None when they all failed (or none could
        be tried), with the last failure kept (`last`: the final error raised instead). A
        request's own error raises at once."""
        group = view.group
        retry = group.retry
        budget = group.attempts
        tried: set[str] | frozenset[str] = _NONE  # a set of its own at the first retry
        skipped: set[str] | frozenset[str] = _NONE
        retries = 0
        while budget > 0:
            route, deployment = self._next(view, routes, tried, skipped)
            if route is None or deployment is None:
                if not self._rate_limit_wait(view, routes, skipped, retry.max_retry_after_seconds):
                    self._exhausted(view, last)
                    return None
                await asyncio.sleep(self._soonest or 0.0)
                continue
            if group.context_window_fallbacks and self._too_long(view, deployment):
                skipped = {deployment.id, *skipped}
                continue
            budget -= 1
            if deployment.id in tried:
                retries += 1
                delay = min(retry.max_backoff_seconds, retry.backoff_seconds * 2 ** (retries - 1))
                await asyncio.sleep(random.uniform(0, delay))
            # one upstream call (inline, not a coroutine of its own: the loop's hot part)
            self._number += 1
            deployment.started()
            observed = deployment.outcomes
            call = self._call
            deadlines = (None if deployment.timeouts is None and call.timeout is None
                         else deadlines_for(deployment.timeouts, call.timeout))
            try:
                answer = await self._send(call, route, self._number, deployment.observe,
                                          deadlines)
            except GatewayError as error:
                self._failed(deployment, observed, error)
                if deployment.id not in tried:  # read by the next attempt's choice
                    tried = {deployment.id, *tried}
            except BaseException:
                if deployment.outcomes == observed:  # failed before an upstream call began
                    deployment.abandoned()
                raise
            else:
                context = call.context
                if context is not None:  # who served, after how many attempts (inline: hot)
                    number = self._number
                    context.add_encoded(deployment.header, _ATTEMPTS[number] if number < _KEPT
                                        else (_ATTEMPTS[0][0], str(number).encode()))
                    if fallback is not None:
                        context.add_header(FALLBACK_HEADER, fallback)
                return answer
            kind = self._kind
            if kind is FailureClass.REJECTED:
                assert self._error is not None
                raise self._error
            if kind in (FailureClass.CONTEXT_LENGTH, FailureClass.CONTENT_POLICY):
                # to that kind's fallbacks: another deployment would say the same
                self._exhausted(view, last)
                return None
            if kind not in retry.on:
                self._exhausted(view, last)
                return None
        self._exhausted(view, last)
        return None

    def _exhausted(self, view: GroupView, last: bool) -> None:
        """A stage's end without an answer: None, or the final error of the last stage."""
        if last:
            raise self._final_error(view)

    def _next(
        self, view: GroupView, routes: tuple[Route, ...], tried: set[str] | frozenset[str],
        skipped: set[str] | frozenset[str],
    ) -> tuple[Route | None, Deployment | None]:
        """The first available deployment not yet tried, else the first available one."""
        again: tuple[Route | None, Deployment | None] = (None, None)
        by_id = view.group.by_id
        now = 0.0  # time.monotonic(), read at the first breaker that is not closed
        for route in routes:
            deployment = by_id[route.deployment]  # type: ignore[index]  # a group's routes have ids
            breaker = deployment.breaker
            if breaker.state is not BreakerState.CLOSED:
                now = now or time.monotonic()
                if not breaker.available(now):
                    continue
            if deployment.id in skipped:
                continue
            if deployment.id not in tried:
                return route, deployment
            if again[0] is None:
                again = (route, deployment)
        return again

    def _rate_limit_wait(
        self, view: GroupView, routes: tuple[Route, ...], skipped: set[str] | frozenset[str],
        cap: float,
    ) -> bool:
        """Whether the deployments left are only cooling down from a 429 for at most `cap`
        seconds (then the run waits for the soonest, as its Retry-After asked)."""
        now = time.monotonic()
        waits = [view.deployment(route).breaker.remaining(now) for route in routes]
        self._soonest = min(waits) if waits else None
        return (
            self._kind is FailureClass.RATE_LIMIT
            and not skipped
            and self._soonest is not None
            and self._soonest <= cap
        )

    def _failed(self, deployment: Deployment, observed: int, error: GatewayError) -> None:
        """An attempt failed: keep the failure, cool a 429 down, tell the metrics."""
        if deployment.outcomes == observed:  # failed before an upstream call began
            deployment.abandoned()
        kind = classify(error)
        self._error, self._kind = error, kind
        if kind is FailureClass.RATE_LIMIT:
            deployment.breaker.rate_limited(error.retry_after)
        if self._on_failure is not None:
            self._on_failure(deployment, kind)

    def _too_long(self, view: GroupView, deployment: Deployment) -> bool:
        """The input is longer than this deployment's window, and the group has somewhere
        bigger to send it."""
        window = deployment.route.context_window
        if window is None or not view.group.context_window_fallbacks:
            return False
        if self._input_tokens is None and self._call.task is not None:
            self._input_tokens = self._call.task.input_tokens(deployment.route.upstream_model)
        if self._input_tokens is None:
            model_call = self._call.canonical()
            self._input_tokens = estimate_prompt(
                model_call.messages, model_call.tools, deployment.route.upstream_model
            )
        if self._input_tokens <= window:
            return False
        self._kind = FailureClass.CONTEXT_LENGTH
        self._error = UpstreamRejected(
            f"The input ({self._input_tokens} tokens) is longer than the context window of "
            f"'{deployment.id}' ({window} tokens).",
            status=400, code="context_length_exceeded",
        )
        return True

    def _final_error(self, view: GroupView) -> GatewayError:
        if self._error is not None:
            return self._error
        wait = self._soonest
        return UpstreamUnavailable(
            f"No deployment of '{view.group.name}' is available now (circuit breakers open).",
            retry_after=round(wait, 3) if wait else None,
        )
