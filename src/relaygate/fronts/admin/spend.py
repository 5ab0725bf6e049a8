"""What a key or tenant has spent of its budget this period (the admin API's `spend`)."""

from __future__ import annotations

from typing import Any

from relaygate.control_settings import BudgetSettings
from relaygate.services import Gateway


async def spend_of(gateway: Gateway, owner: str, budget: dict[str, Any] | None) -> Any:
    """`{usd, tokens, period_end}` for `owner` ("key:<id>", "tenant:<name>"), or None
    when it has no budget (or budgets are off)."""
    if budget is None or gateway.budgets is None:
        return None
    period = BudgetSettings.model_validate(budget).period
    spent = await (await gateway.budgets.counters()).spent(owner, period)
    return {
        "usd": round(spent.usd, 9),
        "tokens": spent.tokens,
        "period_end": int(spent.period_end.timestamp()) if spent.period_end else None,
    }
