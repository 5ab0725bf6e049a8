"""The limits step: every limit that applies to a call passes it, or it is refused with
429 before it is sent; a call that passes reserves its worst case of tokens and a slot,
settled from its outcome (a stream's as it ends, also when the client goes away)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from typing import Protocol

from relaygate.control_settings import LimitsSettings, RedisFailure
from relaygate.limits.errors import LimitExceeded, LimitsUnavailable, StoreFailed
from relaygate.limits.headers import rate_limit_headers, rate_limit_pairs
from relaygate.limits.meters import Kind, Meter, Verdict
from relaygate.limits.metrics import LimitMetrics
from relaygate.limits.rules import Rules, meters_of
from relaygate.observability.logging import get_logger
from relaygate.pipeline.call import Answer, Call, Endpoint
from relaygate.pipeline.chain import Next
from relaygate.pipeline.estimate import worst_case
from relaygate.pipeline.outcome import CLIENT_CLOSED, Outcome

_log = get_logger("relaygate.limits")

_WHAT = {
    Kind.RPM: "requests per minute",
    Kind.TPM: "tokens per minute",
    Kind.TOKENS_PER_DAY: "tokens per day",
    Kind.MAX_CONCURRENT: "concurrent requests",
}
_FAMILY = {Kind.RPM: "requests", Kind.MAX_CONCURRENT: "requests",
           Kind.TPM: "tokens", Kind.TOKENS_PER_DAY: "tokens"}


class Limiter(Protocol):
    async def check(self, meters: Sequence[Meter], lease: str) -> Verdict:
        """Count the call against every meter, or against none when one refuses it;
        raises StoreFailed when the store cannot answer."""

    def close(self) -> None:
        """Stop background work (lease renewal); held slots expire with their leases."""

    def finish(self, meters: Sequence[Meter], lease: str, tokens: int | None) -> None:
        """The call ended: free its slots, settle its reserved tokens to `tokens`."""


class LimitStep:
    def __init__(self, settings: LimitsSettings, limiter: Limiter, metrics: LimitMetrics) -> None:
        self._rules = Rules(settings)
        self._global = self._rules.global_limits
        self._limiter = limiter
        self._metrics = metrics
        self._deny_on_failure = settings.on_redis_error is RedisFailure.DENY
        self._store_down = False
        self._instance = uuid.uuid4().hex[:12]  # lease ids: unique across instances
        self._lease_number = itertools.count().__next__  # (`next` is the pipeline's here)

    def close(self) -> None:
        """Stop background work (a Redis limiter's lease renewal)."""
        self._limiter.close()

    async def __call__(self, call: Call, next: Next) -> Answer:
        grant = call.principal.grant
        if not self._global and (grant is None or not grant.limits):
            return await next(call)  # no limit can apply: the cost of this step
        if call.endpoint is Endpoint.COUNT_TOKENS:
            return await next(call)
        meters = meters_of(self._rules.owned(call, grant), lambda: worst_case(call).total_tokens)
        if not meters:
            return await next(call)
        lease = f"{self._instance}:{self._lease_number()}"
        try:
            verdict: Verdict | None = await self._limiter.check(meters, lease)
        except StoreFailed as error:
            self._store_failed(error)  # raises when failing closed
            verdict = None
        if verdict is None:
            return await next(call)
        if self._store_down:
            self._store_down = False
            _log.info("rate limit store answers again; limits are enforced")
        anthropic = call.endpoint is Endpoint.MESSAGES
        refused = verdict.refused
        requests_only = True  # nothing to settle when every meter counts requests
        for meter in meters:
            self._metrics.observe(meter, meter.used + (meter.cost if refused is None else 0))
            requests_only = requests_only and meter.kind is Kind.RPM
        if refused is not None:
            self._metrics.rejected(refused)
            raise _refusal(refused, verdict, rate_limit_headers(meters, anthropic))
        if call.context is not None:
            pairs = rate_limit_pairs(meters, anthropic)
            if pairs:
                _set_headers(call, pairs)
        if requests_only:
            return await next(call)
        settlement = Settlement(self._limiter, meters, lease)
        call.observers.append(settlement.outcome)
        try:
            answer = await next(call)
        except BaseException:
            settlement.finish()  # every attempt failed (or none was made): what they used
            raise
        settlement.answered = True  # a stream's outcome, whatever it is, is the last
        return answer

    def _store_failed(self, error: StoreFailed) -> None:
        self._metrics.store_errors.labels("denied" if self._deny_on_failure else "allowed").inc()
        if not self._store_down:
            self._store_down = True
            action = "refusing calls (503)" if self._deny_on_failure else "serving without limits"
            _log.error(f"rate limit store unavailable: {action} until it answers", error=str(error))
        if self._deny_on_failure:
            raise LimitsUnavailable(
                "The rate limiter is unavailable, and this gateway refuses calls it cannot "
                "count. Try again shortly."
            ) from error


class Settlement:
    """One call's slots and reservations, released once: by the outcome that ends the call
    (a success, the client gone, or any outcome once the answer is out — a stream's), or
    when every attempt failed. The tokens of failed attempts that were retried add up."""

    __slots__ = ("_done", "_lease", "_limiter", "_meters", "_tokens", "answered")

    def __init__(self, limiter: Limiter, meters: list[Meter], lease: str) -> None:
        self._limiter = limiter
        self._meters = meters
        self._lease = lease
        self._done = False
        self._tokens = 0
        self.answered = False

    def outcome(self, outcome: Outcome) -> None:
        usage = outcome.usage
        if usage is not None:
            self._tokens += usage.total_tokens
        ended = outcome.status in (200, CLIENT_CLOSED) or self.answered
        if not ended:
            return  # a failed attempt: the dispatch may try again
        if usage is None and outcome.status == 200 and not self._tokens:
            self.finish(None)  # a success without usage keeps its reservation
        else:
            self.finish()

    def finish(self, tokens: int | None = -1) -> None:
        """Release the slots and settle to `tokens` (-1: the sum seen; None: as reserved)."""
        if not self._done:
            self._done = True
            self._limiter.finish(self._meters, self._lease,
                                 self._tokens if tokens == -1 else tokens)



def _set_headers(call: Call, pairs: list[tuple[bytes, bytes]]) -> None:
    """This call's figures replace an earlier call's of the same request (agent steps)."""
    context = call.context
    assert context is not None
    if context.headers:
        names = {name for name, _ in pairs}
        context.headers = [pair for pair in context.headers if pair[0] not in names]
    context.add_encoded_pairs(pairs)


def _refusal(meter: Meter, verdict: Verdict, headers: dict[str, str]) -> LimitExceeded:
    what = _WHAT[meter.kind]
    if verdict.retry_after is None:
        message = (f"Request too large for {what} of {meter.owner}: limit {meter.limit}, "
                   f"requested {meter.cost} (the input plus max_tokens). Lower max_tokens.")
    elif meter.kind is Kind.MAX_CONCURRENT:
        message = (f"Concurrency limit reached for {meter.owner}: {meter.limit} {what} "
                   "already in flight. Retry when one ends.")
    else:
        message = (f"Rate limit reached for {meter.owner} on {what}: limit {meter.limit}, "
                   f"used {meter.used}, requested {meter.cost}. "
                   f"Please try again in {verdict.retry_after:.3g}s.")
    return LimitExceeded(message, family=_FAMILY[meter.kind], retry_after=verdict.retry_after,
                         headers=headers)
