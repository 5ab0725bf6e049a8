"""`DELETE /admin/cache[?tenant=…][&model=…]`: drop the response cache's entries (all of
them, a tenant's, a model's, or a tenant's for one model); answers how many went."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from relaygate.errors import NotFound
from relaygate.fronts.admin.audit import audited
from relaygate.fronts.admin.auth import require_admin


async def clear_cache(request: Request) -> JSONResponse:
    gateway = await require_admin(request)
    step = gateway.cache
    if step is None:
        raise NotFound("The response cache is off (`cache: {enabled: true}` turns it on).",
                       code="cache_off")
    tenant = request.query_params.get("tenant") or None
    model = request.query_params.get("model") or None
    namespace = step.policies.namespace_of(tenant) if tenant is not None else None
    removed = await step.clear(namespace, model)
    target = f"cache:{tenant or '*'}/{model or '*'}"
    await audited(gateway, request, "cache.cleared", target, None, {"removed": removed})
    return JSONResponse({"object": "cache.cleared", "tenant": tenant, "model": model,
                         "removed": removed})
