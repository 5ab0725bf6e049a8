"""A budget's current period (UTC): its start, when it resets, and the counter's name for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from relaygate.control_settings import BudgetPeriod


@dataclass(frozen=True, slots=True)
class Window:
    key: str  # names the period in the counters: "day:2025-01-31", "month:2025-01", "total"
    start: datetime | None  # None: a total budget, which never resets
    end: datetime | None

    def seconds_left(self, now: datetime) -> float | None:
        """Until the reset; None for a total budget."""
        return None if self.end is None else max((self.end - now).total_seconds(), 0.0)


def current_window(period: BudgetPeriod, now: datetime | None = None) -> Window:
    """The period `now` (default: the current time) falls in."""
    if period is BudgetPeriod.TOTAL:
        return Window("total", None, None)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period is BudgetPeriod.DAY:
        return Window(f"day:{midnight.date().isoformat()}", midnight, midnight + timedelta(days=1))
    if period is BudgetPeriod.WEEK:  # ISO weeks: Monday to Monday
        start = midnight - timedelta(days=midnight.weekday())
        return Window(f"week:{start.date().isoformat()}", start, start + timedelta(days=7))
    start = midnight.replace(day=1)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else \
        start.replace(month=start.month + 1)
    return Window(f"month:{start:%Y-%m}", start, end)
