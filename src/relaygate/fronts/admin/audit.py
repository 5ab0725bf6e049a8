"""The audit log in the admin API:

    GET /admin/audit   newest first (?actor, ?action — exact, or a prefix ending in "." such
                       as "key." —, ?target, ?since, ?until — Unix seconds —, ?limit, ?before
                       — the id of the last row of the previous page)

and `audited`, what the admin handlers call after a change.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from relaygate.audit.log import changed_fields
from relaygate.errors import InvalidRequest
from relaygate.fronts.admin.auth import admin_actor, require_admin
from relaygate.fronts.common import int_query
from relaygate.services import Gateway
from relaygate.store.audit import AuditFilter, AuditRow

# a change to one of these fields is also recorded under its own action
_OWN_ACTIONS = {"budget": "budget.changed", "limits": "limits.changed"}


async def audited(
    gateway: Gateway, request: Request, action: str, target: str,
    before: dict[str, Any] | None, after: dict[str, Any] | None,
) -> None:
    """Record an admin action (and `budget.changed` / `limits.changed` when it changed one)."""
    actor = admin_actor(request)
    context = request.scope.get("state", {}).get("context")
    request_id = getattr(context, "request_id", None)
    await gateway.audit.record(actor, action, target, before, after, request_id)
    changed = changed_fields(before, after) if before is not None else []
    for name, own in _OWN_ACTIONS.items():
        if name in changed:
            await gateway.audit.record(
                actor, own, target, {name: (before or {}).get(name)},
                {name: (after or {}).get(name)}, request_id,
            )


def _seconds(request: Request, name: str) -> float | None:
    text = request.query_params.get(name)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidRequest(f"Invalid value for '{name}': Unix seconds expected, got {text!r}.",
                             param=name) from None


def row_json(row: AuditRow) -> dict[str, Any]:
    return {
        "id": row.id, "object": "audit_entry", "at": row.at, "actor": row.actor,
        "action": row.action, "target": row.target, "before": row.before, "after": row.after,
        "changed": changed_fields(row.before, row.after) if row.before is not None else [],
        "request_id": row.request_id,
    }


async def list_audit(request: Request) -> JSONResponse:
    gateway = await require_admin(request)
    limit = int_query(request, "limit", 50, 1, 500)
    before = request.query_params.get("before")
    if before is not None and not before.isdigit():
        raise InvalidRequest(f"Invalid value for 'before': an entry id expected, got {before!r}.",
                             param="before")
    query = request.query_params
    rows = await (await gateway.audit.store()).query(AuditFilter(
        actor=query.get("actor"), action=query.get("action"), target=query.get("target"),
        since=_seconds(request, "since"), until=_seconds(request, "until"),
        before_id=int(before) if before is not None else None, limit=limit + 1,
    ))
    page = [row_json(row) for row in rows[:limit]]
    return JSONResponse({"object": "list", "data": page, "has_more": len(rows) > limit,
                         "last_id": page[-1]["id"] if page else None})
