"""Tenants (teams) and their defaults, which their keys inherit and may narrow:

    POST  /admin/tenants             {name, models?, endpoints?, tools?, budget?, limits?, metadata?}
    GET   /admin/tenants             list (?limit, ?after)
    GET   /admin/tenants/{name}
    PATCH /admin/tenants/{name}      the fields given (null clears one)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from relaygate.errors import NotFound
from relaygate.fronts.admin.audit import audited
from relaygate.fronts.admin.auth import require_admin
from relaygate.fronts.admin.bodies import TenantBody, TenantChanges, stored
from relaygate.fronts.admin.spend import spend_of
from relaygate.fronts.admin.views import tenant_json
from relaygate.fronts.common import int_query, list_page, read_json_object
from relaygate.store.access import TenantRecord
from relaygate.translate.validation import validate_wire


async def create_tenant(request: Request) -> JSONResponse:
    gateway = await require_admin(request)
    _, raw = await read_json_object(request, gateway)
    body = validate_wire(TenantBody, raw)
    values = stored(body)
    values["metadata"] = values["metadata"] or {}
    tenant = await (await gateway.access_store()).create_tenant(TenantRecord(**values))
    await audited(gateway, request, "tenant.created", f"tenant:{tenant.name}", None,
                  tenant_json(tenant))
    return JSONResponse(tenant_json(tenant), status_code=201)


async def list_tenants(request: Request) -> JSONResponse:
    gateway = await require_admin(request)
    limit = int_query(request, "limit", 20, 1, 100)
    after = request.query_params.get("after")
    tenants = await (await gateway.access_store()).tenants(limit + 1, after)
    page = [tenant_json(tenant, await spend_of(gateway, f"tenant:{tenant.name}", tenant.budget))
            for tenant in tenants[:limit]]
    return JSONResponse(list_page(page, page[0]["id"] if page else None,
                                  page[-1]["id"] if page else None, len(tenants) > limit))


async def get_tenant(request: Request) -> JSONResponse:
    gateway = await require_admin(request)
    name = request.path_params["name"]
    tenant = await (await gateway.access_store()).tenant(name)
    if tenant is None:
        raise NotFound(f"No tenant named {name!r}.", code="tenant_not_found")
    return JSONResponse(tenant_json(tenant, await spend_of(gateway, f"tenant:{name}",
                                                           tenant.budget)))


async def update_tenant(request: Request) -> JSONResponse:
    gateway = await require_admin(request)
    _, raw = await read_json_object(request, gateway)
    body = validate_wire(TenantChanges, raw)
    changes = stored(body, body.model_fields_set)
    if changes.get("metadata", {}) is None:
        changes["metadata"] = {}
    store = await gateway.access_store()
    name = request.path_params["name"]
    current = await store.tenant(name)
    tenant = await store.update_tenant(name, changes)
    await gateway.access_changed()  # its keys' grants change with it
    await audited(gateway, request, "tenant.updated", f"tenant:{tenant.name}",
                  tenant_json(current) if current is not None else None, tenant_json(tenant))
    return JSONResponse(tenant_json(tenant))

