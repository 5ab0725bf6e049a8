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


_TOTAL = Window("total", None, None)
_latest: dict[BudgetPeriod, Window] = {}  # each period's last window, most calls fall in it


def current_window(period: BudgetPeriod, now: datetime | None = None) -> Window:
    """The period `now` (default: the current time) falls in."""
    if period is BudgetPeriod.TOTAL:
        return _TOTAL
    now = datetime.now(UTC) if now is None else now.astimezone(UTC)
    latest = _latest.get(period)
    if latest is not None and latest.start is not None and latest.end is not None \
            and latest.start <= now < latest.end:
        return latest
    window = _window_of(period, now)
    _latest[period] = window
    return window


def _window_of(period: BudgetPeriod, now: datetime) -> Window:
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
