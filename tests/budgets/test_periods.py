"""A budget's period (UTC): when it started and when it resets."""

from __future__ import annotations

from datetime import UTC, datetime

from relaygate.budgets.periods import current_window
from relaygate.control_settings import BudgetPeriod

NOW = datetime(2024, 12, 31, 22, 30, tzinfo=UTC)  # a Tuesday, the last day of the year


def test_day_week_month_reset_at_utc_midnight() -> None:
    day = current_window(BudgetPeriod.DAY, NOW)
    assert (day.start, day.end) == (datetime(2024, 12, 31, tzinfo=UTC),
                                    datetime(2025, 1, 1, tzinfo=UTC))
    week = current_window(BudgetPeriod.WEEK, NOW)
    assert (week.start, week.end) == (datetime(2024, 12, 30, tzinfo=UTC),
                                      datetime(2025, 1, 6, tzinfo=UTC))
    month = current_window(BudgetPeriod.MONTH, NOW)
    assert (month.start, month.end) == (datetime(2024, 12, 1, tzinfo=UTC),
                                        datetime(2025, 1, 1, tzinfo=UTC))
    assert day.seconds_left(NOW) == 5400
    assert len({day.key, week.key, month.key}) == 3


def test_a_new_period_counts_afresh_and_total_never_resets() -> None:
    later = datetime(2025, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert current_window(BudgetPeriod.DAY, NOW).key != current_window(BudgetPeriod.DAY, later).key
    total = current_window(BudgetPeriod.TOTAL, NOW)
    assert total == current_window(BudgetPeriod.TOTAL, later)
    assert total.end is None and total.seconds_left(NOW) is None
