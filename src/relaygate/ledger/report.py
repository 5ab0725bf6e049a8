"""What the usage API answers: totals per group, as JSON or CSV (pure)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from relaygate.ledger.query import UsageQuery

GROUP_FIELDS = {"tenant": "tenant", "key": "key_id", "model": "model", "provider": "provider",
                "day": "day"}  # group_by → the field that names the group
COLUMNS = ("requests", "input_tokens", "output_tokens", "cached_tokens", "cost_usd",
           "cache_hits", "saved_usd")


@dataclass(slots=True)
class UsageTotals:
    group: str | None
    requests: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cost_usd: float | None  # None: no row of the group had a price
    cache_hits: int = 0  # calls the response cache answered
    saved_usd: float | None = None  # what those hits' original calls cost


def overall(groups: list[UsageTotals]) -> UsageTotals:
    """The sum of every group (cost None when no group had one)."""
    costs = [group.cost_usd for group in groups if group.cost_usd is not None]
    saved = [group.saved_usd for group in groups if group.saved_usd is not None]
    return UsageTotals(
        None,
        sum(group.requests for group in groups),
        sum(group.input_tokens for group in groups),
        sum(group.output_tokens for group in groups),
        sum(group.cached_tokens for group in groups),
        sum(costs) if costs else None,
        sum(group.cache_hits for group in groups),
        sum(saved) if saved else None,
    )


def _numbers(totals: UsageTotals) -> dict[str, Any]:
    return {column: getattr(totals, column) for column in COLUMNS}


def usage_json(query: UsageQuery, groups: list[UsageTotals]) -> dict[str, Any]:
    field = GROUP_FIELDS[query.group_by]
    return {
        "object": "usage",
        "group_by": query.group_by,
        "from": query.since_iso,
        "to": query.until_iso,
        "data": [{field: group.group, **_numbers(group)} for group in groups],
        "total": _numbers(overall(groups)),
    }


def usage_csv(query: UsageQuery, groups: list[UsageTotals]) -> str:
    """A header row, then one row per group; an unknown cost is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([GROUP_FIELDS[query.group_by], *COLUMNS])
    for group in groups:
        cost = "" if group.cost_usd is None else repr(group.cost_usd)
        saved = "" if group.saved_usd is None else repr(group.saved_usd)
        writer.writerow([group.group or "", group.requests, group.input_tokens,
                         group.output_tokens, group.cached_tokens, cost, group.cache_hits,
                         saved])
    return out.getvalue()
