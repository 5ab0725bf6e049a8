"""`/admin/usage?group_by=prompt_version`: per template version, from the usage ledger and
the feedback table — requests, error rate, latency, tokens, cost and the mean user score."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select

from relaygate.store.db import Database
from relaygate.store.prompts import FeedbackRow, TemplateRow
from relaygate.store.usage_ledger import UsageLedgerRow as Ledger


async def prompt_versions(database: Database, since: float | None, until: float | None
                          ) -> list[dict[str, Any]]:
    """One row per (template, version) that served calls, in name and version order."""
    usage = select(
        Ledger.prompt_id, Ledger.prompt_version, func.count(),
        func.sum(case((Ledger.status >= 400, 1), else_=0)),
        func.avg(Ledger.latency_ms),
        func.coalesce(func.sum(Ledger.input_tokens), 0),
        func.coalesce(func.sum(Ledger.output_tokens), 0),
        func.sum(Ledger.cost_usd),
    ).where(Ledger.prompt_id.is_not(None)).group_by(Ledger.prompt_id, Ledger.prompt_version)
    calls = select(Ledger.request_id, Ledger.tenant, Ledger.prompt_id,
                   Ledger.prompt_version).where(Ledger.prompt_id.is_not(None))
    if since is not None:
        usage = usage.where(Ledger.at >= since)
        calls = calls.where(Ledger.at >= since)
    if until is not None:
        usage = usage.where(Ledger.at < until)
        calls = calls.where(Ledger.at < until)
    served = calls.distinct().subquery()
    scores = select(
        served.c.prompt_id, served.c.prompt_version, func.count(), func.avg(FeedbackRow.score)
    ).join(FeedbackRow, (FeedbackRow.request_id == served.c.request_id)
           & (FeedbackRow.tenant == served.c.tenant)
           ).group_by(served.c.prompt_id, served.c.prompt_version)
    async with database.engine.connect() as connection:
        names = dict((await connection.execute(select(TemplateRow.id, TemplateRow.name))).all())
        scored = {(row[0], row[1]): (int(row[2]), float(row[3]))
                  for row in await connection.execute(scores)}
        rows = []
        for row in await connection.execute(usage):
            requests = int(row[2])
            feedback, mean = scored.get((row[0], row[1]), (0, None))
            rows.append({
                "prompt_id": row[0],
                "name": names.get(row[0]),
                "version": f"v{row[1]}",
                "requests": requests,
                "errors": int(row[3] or 0),
                "error_rate": (int(row[3] or 0) / requests) if requests else 0.0,
                "mean_latency_ms": float(row[4] or 0.0),
                "input_tokens": int(row[5]),
                "output_tokens": int(row[6]),
                "mean_tokens": (int(row[5]) + int(row[6])) / requests if requests else 0.0,
                "cost_usd": float(row[7]) if row[7] is not None else None,
                "feedback": feedback,
                "mean_score": mean,
            })
    rows.sort(key=lambda row: (row["name"] or "", int(row["version"][1:])))
    return rows
