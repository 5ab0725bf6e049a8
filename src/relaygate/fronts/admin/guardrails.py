"""`GET /admin/guardrails/test?text=…`: what the configured guards would do with a text.

Query: `text` (required), `where` (input, output, tool_args, tool_results; default input),
`guard` (repeatable: these guards; default: those of `tenant`/`key`/`model` when given,
else every configured guard)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from relaygate.errors import InvalidRequest
from relaygate.fronts.admin.auth import require_admin
from relaygate.guardrails.preview import preview
from relaygate.guardrails.settings import GuardOn
from relaygate.pipeline.auth import Principal


async def test_guardrails(request: Request) -> JSONResponse:
    gateway = await require_admin(request)
    query = request.query_params
    text = query.get("text")
    if text is None:
        raise InvalidRequest("Give the text to test: ?text=…", param="text")
    try:
        where = GuardOn(query.get("where", "input"))
    except ValueError:
        raise InvalidRequest(f"where must be one of {[item.value for item in GuardOn]}",
                             param="where") from None
    step = gateway.guardrails
    if step is None:
        return JSONResponse(preview([], text, where))
    guardrails = step.guardrails
    names = query.getlist("guard")
    unknown = [name for name in names if name not in guardrails.guards]
    if unknown:
        raise InvalidRequest(f"unknown guard(s) {unknown} (configured: {sorted(guardrails.guards)})",
                             param="guard")
    if names:
        guards = [guard for name, guard in guardrails.guards.items() if name in names]
    elif any(query.get(name) for name in ("tenant", "key", "model")):
        principal = Principal(tenant=query.get("tenant", ""), key_name=query.get("key"))
        guards = list(guardrails.for_call(principal, query.get("model")))
    else:
        guards = list(guardrails.guards.values())
    return JSONResponse(preview(guards, text, where))
