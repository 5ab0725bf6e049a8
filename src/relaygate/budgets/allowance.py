"""Budget counters that reserve in advance: each instance takes a small allowance from the
shared counters (Redis or the database) and serves calls from it in process, so most
calls reserve and settle without a round trip.

The shared counter always holds at least what was spent: an allowance is counted there
as spent while this instance holds it. So a hard cap still holds across instances; the
price is that a call may be refused while another instance holds some of what is left,
at most `LEASE_SHARE` of it, for at most `RETURN_AFTER` seconds (an unused allowance goes
back then, and at shutdown). An instance killed holding one loses it: counted as spent,
never more than one allowance per owner and period.

An allowance is the call that asks for it times the calls this instance served in the
last `LEASE_SECONDS` (at least `LEASE_CALLS`, at most `MAX_LEASE_CALLS`), so a busy
instance takes one every quarter second rather than one every 32 calls; and never more
than `LEASE_SHARE` of what the counter has left under a hard cap: close to the cap that
is less than one call, and each call then reserves exactly its own worst case.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime

from relaygate.budgets.counters import Amount, BudgetCounters, Caps, Reserved, Spent
from relaygate.budgets.periods import Window, current_window
from relaygate.control_settings import BudgetPeriod
from relaygate.observability.logging import get_logger

LEASE_CALLS = 32  # an allowance covers at least this many calls like the one that takes it
LEASE_SECONDS = 0.25  # and as many as this instance serves in this long, at its last rate
MAX_LEASE_CALLS = 4096
LEASE_SHARE = 0.05  # and at most this share of what is left under a hard cap
RETURN_AFTER = 0.5  # seconds an unused allowance is kept before it goes back

_log = get_logger("relaygate.budgets")


class _Allowance:
    """What this instance holds of one owner's period, and the shared counter as last seen."""

    __slots__ = ("counted", "held", "lock", "served", "taken_at", "window")

    def __init__(self, window: Window) -> None:
        self.window = window
        self.held = Amount()  # taken from the shared counter, not yet used by a call
        self.counted: Amount | None = None  # the shared counter after our last write
        self.lock = asyncio.Lock()  # one allowance taken at a time
        self.served = 0  # calls served since the last allowance was taken
        self.taken_at: float | None = None  # when (monotonic seconds)

    def lease_calls(self, now: float) -> int:
        """How many calls the next allowance covers: this instance's recent rate."""
        if self.taken_at is None:
            return LEASE_CALLS
        rate = self.served / max(now - self.taken_at, 1e-3)
        return max(LEASE_CALLS, min(int(rate * LEASE_SECONDS), MAX_LEASE_CALLS))

    @property
    def spent(self) -> Amount:
        """The owner's spend as this instance knows it (its own allowance not counted)."""
        return (self.counted or Amount()) - self.held

    def covers(self, amount: Amount) -> bool:
        return self.held.nano_usd >= amount.nano_usd and self.held.tokens >= amount.tokens


class AllowanceCounters:
    """`BudgetCounters` over shared ones, serving reservations from allowances."""

    def __init__(self, shared: BudgetCounters) -> None:
        self._shared = shared
        self._allowances: dict[tuple[str, str], _Allowance] = {}
        self._returner: asyncio.Task[None] | None = None

    async def reserve(self, owner: str, window: Window, amount: Amount,
                      caps: Caps | None) -> Reserved:
        allowance = self._allowance(owner, window)
        if not allowance.covers(amount):
            async with allowance.lock:  # calls that arrive meanwhile wait for this one
                if not allowance.covers(amount):
                    refused = await self._take(owner, allowance, amount, caps)
                    if refused is not None:
                        return refused
        allowance.held -= amount
        allowance.served += 1
        return Reserved(True, allowance.spent)

    async def adjust(self, owner: str, window: Window, delta: Amount) -> Amount:
        spent = self.adjust_here(owner, window, delta)
        if spent is not None:
            return spent
        allowance = self._allowance(owner, window)
        allowance.held -= delta  # the call cost more than this instance holds: add the rest
        owed = Amount(max(-allowance.held.nano_usd, 0), max(-allowance.held.tokens, 0))
        allowance.held += owed
        allowance.counted = await self._shared.adjust(owner, window, owed)
        self._return_later()
        return allowance.spent

    def adjust_here(self, owner: str, window: Window, delta: Amount) -> Amount | None:
        """`adjust` within the allowance, without a round trip; None when it cannot be."""
        allowance = self._allowance(owner, window)
        held = allowance.held - delta  # a refund (negative delta) goes back to the allowance
        if held.nano_usd < 0 or held.tokens < 0:
            return None
        allowance.held = held
        self._return_later()
        return allowance.spent

    async def claim_alert(self, owner: str, window: Window, threshold: int) -> bool:
        return await self._shared.claim_alert(owner, window, threshold)

    async def spent(self, owner: str, period: BudgetPeriod) -> Spent:
        shared = await self._shared.spent(owner, period)
        allowance = self._allowances.get((owner, current_window(period).key))
        if allowance is None:
            return shared
        held = allowance.held
        return Spent(shared.usd - held.usd, shared.tokens - held.tokens, shared.period_end)

    async def give_back(self) -> None:
        """Return every allowance held to the shared counters (tests, shutdown); forget
        the periods that have ended."""
        holding = [(owner, allowance) for (owner, _), allowance in self._allowances.items()
                   if allowance.held != Amount()]
        await asyncio.gather(*(self._give_back(owner, allowance) for owner, allowance in holding))
        now = datetime.now(UTC)
        for key, allowance in list(self._allowances.items()):
            end = allowance.window.end
            if end is not None and end <= now and allowance.held == Amount():
                del self._allowances[key]

    async def _give_back(self, owner: str, allowance: _Allowance) -> None:
        held, allowance.held = allowance.held, Amount()
        try:
            allowance.counted = await self._shared.adjust(owner, allowance.window,
                                                          Amount() - held)
        except Exception as exc:  # kept: the next return tries again
            allowance.held += held
            _log.warning("budget allowance not returned", owner=owner,
                         error=type(exc).__name__)

    async def close(self) -> None:
        if self._returner is not None:
            self._returner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._returner
        await self.give_back()
        await self._shared.close()

    def _allowance(self, owner: str, window: Window) -> _Allowance:
        allowance = self._allowances.get((owner, window.key))
        if allowance is None:
            allowance = self._allowances[(owner, window.key)] = _Allowance(window)
        return allowance

    async def _take(self, owner: str, allowance: _Allowance, amount: Amount,
                    caps: Caps | None) -> Reserved | None:
        """Take an allowance that covers `amount`; the refusal when not even `amount` fits."""
        missing = Amount(max(amount.nano_usd - allowance.held.nano_usd, 0),
                         max(amount.tokens - allowance.held.tokens, 0))
        now = time.monotonic()
        lease = _lease(missing, amount, allowance.lease_calls(now), allowance.counted, caps)
        reserved = await self._shared.reserve(owner, allowance.window, lease, caps)
        if not reserved.granted and lease != missing:
            lease = missing
            reserved = await self._shared.reserve(owner, allowance.window, lease, caps)
        allowance.counted = reserved.spent
        if not reserved.granted:
            return Reserved(False, allowance.spent)
        allowance.held += lease
        allowance.served, allowance.taken_at = 0, now
        self._return_later()
        return None

    def _return_later(self) -> None:
        if self._returner is None:
            self._returner = asyncio.create_task(self._return_unused())

    async def _return_unused(self) -> None:
        """Every RETURN_AFTER seconds, while anything is held, give it back."""
        try:
            while any(allowance.held != Amount() for allowance in self._allowances.values()):
                await asyncio.sleep(RETURN_AFTER)
                await self.give_back()
        finally:
            self._returner = None


def _lease(missing: Amount, amount: Amount, calls: int, counted: Amount | None,
           caps: Caps | None) -> Amount:
    """How much to take: `calls` calls' worth, within LEASE_SHARE of what is left."""
    nano_usd = max(missing.nano_usd, amount.nano_usd * calls)
    tokens = max(missing.tokens, amount.tokens * calls)
    if caps is not None and counted is not None:
        if caps.max_nano_usd is not None:
            left = int((caps.max_nano_usd - counted.nano_usd) * LEASE_SHARE)
            nano_usd = max(missing.nano_usd, min(nano_usd, left))
        if caps.max_tokens is not None:
            left = int((caps.max_tokens - counted.tokens) * LEASE_SHARE)
            tokens = max(missing.tokens, min(tokens, left))
    return Amount(nano_usd, tokens)
