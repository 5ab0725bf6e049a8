"""What budgets count per owner and period, and the protocol of the counters that keep it.

Two implementations share counters between instances: Redis (`redis_counters.py`, one Lua
script per reservation) when `storage.redis_url` is set, the database (`sql_counters.py`,
one conditional UPDATE) otherwise. Dollars are counted in whole nano-dollars, so a
reservation and its settlement add and subtract exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from relaygate.budgets.periods import Window
from relaygate.control_settings import BudgetPeriod, BudgetSettings

NANO_PER_USD = 1_000_000_000


def to_nano(usd: float) -> int:
    return round(usd * NANO_PER_USD)


@dataclass(frozen=True, slots=True)
class Amount:
    """Spend: nano-dollars and tokens (input and output together)."""

    nano_usd: int = 0
    tokens: int = 0

    @property
    def usd(self) -> float:
        return self.nano_usd / NANO_PER_USD

    def __sub__(self, other: Amount) -> Amount:
        return Amount(self.nano_usd - other.nano_usd, self.tokens - other.tokens)

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.nano_usd + other.nano_usd, self.tokens + other.tokens)


@dataclass(frozen=True, slots=True)
class Caps:
    """A hard budget's limits; a reservation that would pass one is refused."""

    max_nano_usd: int | None
    max_tokens: int | None

    @classmethod
    def of(cls, budget: BudgetSettings) -> Caps:
        return cls(to_nano(budget.max_usd) if budget.max_usd is not None else None,
                   budget.max_tokens)


@dataclass(frozen=True, slots=True)
class Reserved:
    granted: bool
    spent: Amount  # the counter after the reservation, or as it stood when refused


@dataclass(frozen=True, slots=True)
class Spent:
    """What an owner has spent this period (reservations in flight included)."""

    usd: float
    tokens: int
    period_end: datetime | None  # None: a total budget


class BudgetCounters(Protocol):
    async def reserve(self, owner: str, window: Window, amount: Amount,
                      caps: Caps | None) -> Reserved:
        """Add `amount` atomically, unless it would pass `caps` (None: always add)."""

    async def adjust(self, owner: str, window: Window, delta: Amount) -> Amount:
        """Add `delta` (negative to release a reservation); the counter after."""

    async def claim_alert(self, owner: str, window: Window, threshold: int) -> bool:
        """True for exactly one caller, on every instance, per owner, period and threshold."""

    async def spent(self, owner: str, period: BudgetPeriod) -> Spent:
        """The owner's spend in the current `period` (for the admin API's budget bars)."""

    async def close(self) -> None: ...
