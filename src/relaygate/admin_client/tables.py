"""How `relaygate keys|tenants|usage` print what the admin API answers: plain-text tables,
`field: value` details, budgets as text, usage rows (and CSV)."""

from __future__ import annotations

import csv
import io
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
             for line in [headers, *rows]]
    return "\n".join(lines)


def when(seconds: float | None) -> str:
    """Unix seconds as UTC ISO 8601 (minutes), or `-`."""
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%MZ")


def names(values: list[str] | None) -> str:
    """A list of names, or `*` for none set (everything its tenant allows)."""
    return ",".join(values) if values else "*"


def budget_text(budget: Json | None, spend: Json | None = None) -> str:
    """`$5.00/month hard`; with spend, `$1.20 of $5.00/month hard (24%)`."""
    if not budget:
        return "-"
    caps = []
    if budget.get("max_usd") is not None:
        caps.append(_cap(f"${budget['max_usd']:.2f}", (spend or {}).get("usd"),
                         budget["max_usd"], "${:.2f}"))
    if budget.get("max_tokens") is not None:
        caps.append(_cap(f"{budget['max_tokens']} tokens", (spend or {}).get("tokens"),
                         budget["max_tokens"], "{}"))
    period, mode = budget.get("period", "month"), budget.get("mode", "hard")
    return f"{' + '.join(caps)}/{period} {mode}"


def _cap(cap: str, spent: float | None, limit: float, shown: str) -> str:
    if spent is None:
        return cap
    return f"{shown.format(spent)} of {cap} ({100 * spent / limit:.0f}%)"


def limits_text(limits: Json | None) -> str:
    return " ".join(f"{name}={value}" for name, value in (limits or {}).items()) or "-"


def key_table(keys: list[Json]) -> str:
    rows = [[key["id"], key["tenant"], key.get("name") or "-", key["prefix"] + "…",
             key["status"], names(key.get("models")), budget_text(key.get("budget"),
                                                                  key.get("spend")),
             when(key.get("expires_at"))] for key in keys]
    headers = ["ID", "TENANT", "NAME", "PREFIX", "STATUS", "MODELS", "BUDGET", "EXPIRES"]
    return table(headers, rows) if rows else "no keys"


def tenant_table(tenants: list[Json]) -> str:
    rows = [[tenant["name"], names(tenant.get("models")), names(tenant.get("endpoints")),
             budget_text(tenant.get("budget"), tenant.get("spend")),
             limits_text(tenant.get("limits")), when(tenant.get("created_at"))]
            for tenant in tenants]
    headers = ["NAME", "MODELS", "ENDPOINTS", "BUDGET", "LIMITS", "CREATED"]
    return table(headers, rows) if rows else "no tenants"


def details(item: Json) -> str:
    """One key or tenant, a `field: value` line each (never the secret: printed apart)."""
    shown = {
        **{name: value for name, value in item.items() if name not in {"key", "object"}},
        "models": names(item.get("models")),
        "endpoints": names(item.get("endpoints")),
        "budget": budget_text(item.get("budget"), item.get("spend")),
        "limits": limits_text(item.get("limits")),
    }
    for name in ("expires_at", "revoked_at", "previous_key_valid_until", "created_at",
                 "updated_at"):
        if name in shown:
            shown[name] = when(shown[name])
    shown.pop("spend", None)
    width = max(len(name) for name in shown) + 1
    return "\n".join(f"{name + ':':<{width}} {_plain(value)}" for name, value in shown.items())


def _plain(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{name}={item}" for name, item in value.items()) or "-"
    return str(value)


@dataclass(frozen=True, slots=True)
class UsageRow:
    group: str
    requests: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cost_usd: float | None  # None: no price known for some of its calls


def usage_rows(answer: Json) -> list[UsageRow]:
    """The rows of a `GET /admin/usage` answer (the one place that reads its shape)."""
    return [
        UsageRow(
            group=str(row.get("group")),
            requests=int(row.get("requests") or 0),
            input_tokens=int(row.get("input_tokens") or 0),
            output_tokens=int(row.get("output_tokens") or 0),
            cached_tokens=int(row.get("cached_tokens") or 0),
            cost_usd=None if row.get("cost_usd") is None else float(row["cost_usd"]),
        )
        for row in answer.get("data") or []
    ]


def usage_table(rows: list[UsageRow], group_by: str) -> str:
    if not rows:
        return "no usage in this period"
    lines = [[row.group, str(row.requests), str(row.input_tokens), str(row.output_tokens),
              str(row.cached_tokens), "-" if row.cost_usd is None else f"${row.cost_usd:.4f}"]
             for row in rows]
    headers = [group_by.upper(), "REQUESTS", "INPUT", "OUTPUT", "CACHED", "COST"]
    return table(headers, lines)


def usage_csv(rows: list[UsageRow], group_by: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([group_by, *(field.name for field in fields(UsageRow)[1:])])
    for row in rows:
        writer.writerow(["" if value is None else value for value in astuple(row)])
    return out.getvalue()
