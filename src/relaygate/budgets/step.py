"""The budget step: reserve each call's worst case against every budget that applies,
refuse it before it is sent when a hard budget cannot hold it, and settle the reservation
with the real cost when the call's outcome arrives.

Reserving the worst case (input tokens counted + `max_tokens`, else the model's output
limit) means concurrent calls, on any number of instances, cannot overshoot a hard budget:
each one's most is counted before it goes. Session turns and agent-loop steps carry the
principal that started them (`Origin.call`), so they count against the same budgets.
Reservations are served from an allowance each instance takes from the shared counters in
advance (`allowance.py`), so most calls reserve and settle without a round trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client import Counter

from relaygate.access.grant import Owned
from relaygate.budgets.alerts import BudgetAlerts
from relaygate.budgets.allowance import AllowanceCounters
from relaygate.budgets.counters import Amount, BudgetCounters, Caps, to_nano
from relaygate.budgets.periods import Window, current_window
from relaygate.budgets.stream_cut import cut_at_budget
from relaygate.control_settings import BudgetMode, BudgetPeriod, BudgetSettings
from relaygate.errors import RateLimited, UpstreamUnavailable
from relaygate.lazy_import import import_module
from relaygate.observability.logging import get_logger
from relaygate.pipeline.background import TaskSet
from relaygate.pipeline.call import Answer, Call, Endpoint
from relaygate.pipeline.chain import Next
from relaygate.pipeline.estimate import WorstCase, worst_case
from relaygate.pipeline.outcome import Outcome
from relaygate.routing.registry import cost_of
from relaygate.types import Usage

if TYPE_CHECKING:
    from relaygate.services import Gateway

REMAINING_HEADER = "x-relaygate-budget-remaining"  # dollars, or tokens for a tokens-only budget
REMAINING_TOKENS_HEADER = "x-relaygate-budget-remaining-tokens"  # when it caps both

_REMAINING = REMAINING_HEADER.encode()
_REMAINING_TOKENS = REMAINING_TOKENS_HEADER.encode()

_log = get_logger("relaygate.budgets")

_PERIOD_NAMES = {BudgetPeriod.DAY: "daily", BudgetPeriod.WEEK: "weekly",
                 BudgetPeriod.MONTH: "monthly", BudgetPeriod.TOTAL: "total"}


@dataclass(slots=True)
class Hold:
    """One budget's reservation for one call."""

    budget: Owned[BudgetSettings]
    window: Window
    reserved: Amount
    spent: Amount  # the counter just after reserving

    def remaining(self, real: Amount | None) -> tuple[float | None, int | None]:
        """Dollars and tokens left: with this call's real cost when known, else its worst."""
        spent = self.spent if real is None else self.spent - self.reserved + real
        settings = self.budget.settings
        usd = settings.max_usd - spent.usd if settings.max_usd is not None else None
        tokens = settings.max_tokens - spent.tokens if settings.max_tokens is not None else None
        return usd, tokens

    @property
    def cuts_streams(self) -> bool:
        settings = self.budget.settings
        return settings.cut_streams and settings.mode is BudgetMode.HARD

    def share_left(self, real: Amount | None) -> float:
        usd, tokens = self.remaining(real)
        settings = self.budget.settings
        shares = [usd / settings.max_usd if usd is not None and settings.max_usd else 1.0,
                  tokens / settings.max_tokens if tokens is not None and settings.max_tokens
                  else 1.0]
        return min(shares)


class BudgetStep:
    def __init__(self, open_counters: Callable[[], Awaitable[BudgetCounters]],
                 alerts: BudgetAlerts) -> None:
        self._open_counters = open_counters
        self._counters: AllowanceCounters | None = None
        self.alerts = alerts
        self.rejected: Counter | None = None  # relaygate_budget_rejections, by owner kind
        self._settling = TaskSet()
        self._unpriced: set[str] = set()  # models warned about (a dollar cap cannot count them)

    async def counters(self) -> AllowanceCounters:
        """The shared counters (Redis or the database), reserved from in allowances."""
        if self._counters is None:
            self._counters = AllowanceCounters(await self._open_counters())
        return self._counters

    async def __call__(self, call: Call, next: Next) -> Answer:
        grant = call.principal.grant
        if grant is None or not grant.budgets or call.endpoint is Endpoint.COUNT_TOKENS:
            return await next(call)
        counters = self._counters or await self.counters()
        worst = worst_case(call)
        holds = await self._reserve(counters, call, grant.budgets, worst)
        settlement = Settlement(self, counters, holds)
        call.observers.append(settlement.observe)
        cutting = [hold for hold in holds if hold.cuts_streams] if call.stream else []
        if cutting:
            call.needs_content = True  # counted as it streams: translated, never relayed
        try:
            answer = await next(call)
        except BaseException:
            settlement.abandon()  # refused or failed before an upstream call: release
            raise
        if cutting and answer.events is not None:
            headroom = [hold.remaining(Amount()) for hold in cutting]
            answer.events = cut_at_budget(answer.events, headroom, answer.route,
                                          worst.input_tokens)
        if call.context is not None and holds:
            _add_remaining_header(call, holds, settlement.real if not call.stream else None)
        return answer

    async def _reserve(self, counters: BudgetCounters, call: Call,
                       budgets: tuple[Owned[BudgetSettings], ...],
                       worst: WorstCase) -> list[Hold]:
        assert call.plan is not None, "the route step runs before the budget step"
        route = call.plan.first
        cost = cost_of(Usage(worst.input_tokens, worst.output_tokens), route)
        if cost is None and route.model not in self._unpriced:
            self._unpriced.add(route.model)
            _log.warning("no price for this model: dollar budgets do not count its calls",
                         model=route.model)
        amount = Amount(to_nano(cost or 0.0), worst.total_tokens)
        now = datetime.now(UTC)
        holds: list[Hold] = []
        try:
            for owned in budgets:
                window = current_window(owned.settings.period, now)
                hard = owned.settings.mode is BudgetMode.HARD
                try:
                    reserved = await counters.reserve(owned.owner, window, amount,
                                                      Caps.of(owned.settings) if hard else None)
                except Exception as exc:
                    if not hard:  # a soft budget fails open: the call goes, unmetered
                        _log.warning("budget counters unavailable; soft budget not counted",
                                     owner=owned.owner, error=type(exc).__name__)
                        continue
                    _log.error("budget counters unavailable; hard budget refuses",
                               owner=owned.owner, error=type(exc).__name__)
                    raise UpstreamUnavailable(
                        "The budget counters are unavailable; try again shortly.",
                        code="budget_unavailable",
                    ) from exc
                if not reserved.granted:
                    if self.rejected is not None:
                        self.rejected.labels(owned.owner.split(":", 1)[0]).inc()
                    raise budget_exceeded(owned, window, reserved.spent, amount, now)
                holds.append(Hold(owned, window, amount, reserved.spent))
        except BaseException:
            await asyncio.shield(_release(counters, holds))
            raise
        return holds

    def settle_later(self, work: Awaitable[None]) -> None:
        self._settling.start(work)

    async def settled(self) -> None:
        """Wait until every settlement so far is in the shared counters, with no allowance
        held (tests)."""
        await self._settling.drained()
        if self._counters is not None:
            await self._counters.give_back()

    async def close(self) -> None:
        """At shutdown: every settlement written, then the counters closed."""
        await self._settling.drained()
        if self._counters is not None:
            await self._counters.close()  # gives back what it holds
        await self.alerts.close()


class Settlement:
    """A call's reservations, replaced by the real cost of its first upstream call (a later
    attempt adds its own); released when no upstream call was made."""

    def __init__(self, step: BudgetStep, counters: AllowanceCounters,
                 holds: list[Hold]) -> None:
        self._step = step
        self._counters = counters
        self._holds = holds
        self._open = True  # the reservations still stand
        self.real = Amount()

    def observe(self, outcome: Outcome) -> None:
        usage = outcome.usage
        real = Amount(to_nano(outcome.cost_usd or 0.0), usage.total_tokens if usage else 0)
        self.real = self.real + real
        self._apply(real, alert=True)

    def abandon(self) -> None:
        if self._open:
            self._apply(Amount(), alert=False)

    def _apply(self, real: Amount, alert: bool) -> None:
        """Settle in process where the allowance covers it; the rest (a round trip, an
        alert to claim) behind the response."""
        deltas = [real - hold.reserved if self._open else real for hold in self._holds]
        self._open = False
        pending: list[tuple[Hold, Amount, Amount | None]] = []
        for hold, delta in zip(self._holds, deltas, strict=True):
            owner = hold.budget.owner
            spent = self._counters.adjust_here(owner, hold.window, delta)
            if spent is None or (alert and self._step.alerts.due(
                    owner, hold.budget.settings, hold.window, spent)):
                pending.append((hold, delta, spent))
        if pending:
            self._step.settle_later(self._write(pending, alert))

    async def _write(self, pending: list[tuple[Hold, Amount, Amount | None]],
                     alert: bool) -> None:
        for hold, delta, spent in pending:
            owner = hold.budget.owner
            try:
                if spent is None:
                    spent = await self._counters.adjust(owner, hold.window, delta)
                if alert:
                    await self._step.alerts.check(self._counters, owner, hold.budget.settings,
                                                  hold.window, spent)
            except Exception:
                _log.exception("budget settlement failed", owner=owner)


async def _release(counters: BudgetCounters, holds: list[Hold]) -> None:
    """Give back reservations already made (another budget refused the call)."""
    for hold in holds:
        try:
            await counters.adjust(hold.budget.owner, hold.window, Amount() - hold.reserved)
        except Exception:
            _log.exception("budget release failed", owner=hold.budget.owner)


def budget_exceeded(owned: Owned[BudgetSettings], window: Window, spent: Amount,
                    amount: Amount, now: datetime) -> RateLimited:
    """The 429 for a hard budget the call would pass: what is spent, and when it resets."""
    budget = owned.settings
    kind, _, name = owned.owner.partition(":")
    whose = "This API key's" if kind == "key" else f"Tenant '{name}''s"
    used, could = [], []
    if budget.max_usd is not None:
        used.append(f"${spent.usd:.6f} of ${budget.max_usd:.2f}")
        could.append(f"${amount.usd:.6f}")
    if budget.max_tokens is not None:
        used.append(f"{spent.tokens} of {budget.max_tokens} tokens")
        could.append(f"{amount.tokens} tokens")
    message = (f"{whose} {_PERIOD_NAMES[budget.period]} budget would be exceeded: "
               f"{' and '.join(used)} used, and this call may use up to {' and '.join(could)}.")
    seconds = window.seconds_left(now)
    if window.end is not None:
        message += f" It resets at {window.end:%Y-%m-%dT%H:%M:%SZ}."
    else:
        message += " It is a total budget: it does not reset."
    return RateLimited(message, code="budget_exceeded", retry_after=seconds)


def _add_remaining_header(call: Call, holds: list[Hold], real: Amount | None) -> None:
    assert call.context is not None
    tightest = holds[0] if len(holds) == 1 else min(holds,
                                                    key=lambda hold: hold.share_left(real))
    usd, tokens = tightest.remaining(real)
    if usd is not None:
        remaining = f"{max(usd, 0.0):.6f}".encode()
        if tokens is not None:
            call.context.add_encoded((_REMAINING, remaining),
                                     (_REMAINING_TOKENS, str(max(tokens, 0)).encode()))
        else:
            call.context.add_encoded_pairs([(_REMAINING, remaining)])
    elif tokens is not None:
        call.context.add_encoded_pairs([(_REMAINING, str(max(tokens, 0)).encode())])


def budget_step(gateway: Gateway) -> BudgetStep:
    """The step on the gateway's shared counters: Redis when configured, else the database."""

    async def open_counters() -> BudgetCounters:
        if gateway.shared is not None:
            redis_module = await import_module("relaygate.budgets.redis_counters")
            counters: BudgetCounters = redis_module.RedisCounters(gateway.shared.redis)
            return counters
        sql_module = await import_module("relaygate.budgets.sql_counters")
        counters = sql_module.SqlCounters(gateway.database)
        return counters

    step = BudgetStep(open_counters, BudgetAlerts(gateway.metrics.registry,
                                                  gateway.settings.budgets.webhook_url))
    step.rejected = gateway.metrics.budget_rejections
    return step
