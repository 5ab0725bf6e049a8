"""Workflows through the admin API (the config file's are listed, not changed):

    POST   /admin/workflows          {name, input_schema?, steps: [{id, type, depends_on?, …}],
                                      max_steps?, max_seconds?, max_cost_usd?}
                                     400 naming a cycle, a missing step, a bad schema
    GET    /admin/workflows
    GET    /admin/workflows/{name}
    DELETE /admin/workflows/{name}
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from relaygate.agents.named.spec import NAME_PATTERN
from relaygate.agents.workflows.spec import WorkflowSpec, check_workflow
from relaygate.errors import Conflict, InvalidRequest, NotFound
from relaygate.fronts.admin.audit import audited
from relaygate.fronts.admin.auth import require_admin
from relaygate.fronts.common import read_json_object
from relaygate.services import Gateway
from relaygate.store.agents import AgentStore, WorkflowRow
from relaygate.translate.validation import validate_wire


async def _store(request: Request) -> tuple[Gateway, AgentStore]:
    gateway = await require_admin(request)
    return gateway, AgentStore(await gateway.database(), WorkflowRow)


def _json(name: str, spec: WorkflowSpec, configured: bool) -> dict[str, Any]:
    return {"name": name, "object": "workflow", "source": "config" if configured else "admin",
            **spec.model_dump(exclude_none=True)}


async def create_workflow(request: Request) -> JSONResponse:
    gateway, store = await _store(request)
    _, raw = await read_json_object(request, gateway)
    name = raw.pop("name", None)
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InvalidRequest("Missing or invalid 'name' (1-64 letters, digits, '_.-').",
                             param="name")
    spec = validate_wire(WorkflowSpec, raw)
    check_workflow(spec)
    if name in gateway.settings.workflows or not await store.create(
        name, spec.model_dump(exclude_none=True)
    ):
        raise Conflict(f"A workflow named {name!r} exists already.", param="name",
                       code="workflow_exists")
    view = _json(name, spec, False)
    await audited(gateway, request, "workflow.created", f"workflow:{name}", None, view)
    return JSONResponse(view, status_code=201)


async def list_workflows(request: Request) -> JSONResponse:
    gateway, store = await _store(request)
    found = {name: (WorkflowSpec.model_validate(spec), False)
             for name, spec in (await store.all()).items()}
    found.update({name: (spec, True) for name, spec in gateway.settings.workflows.items()})
    return JSONResponse({"object": "list", "data": [
        _json(name, spec, configured) for name, (spec, configured) in sorted(found.items())]})


async def get_workflow(request: Request) -> JSONResponse:
    gateway, store = await _store(request)
    name = request.path_params["name"]
    if name in gateway.settings.workflows:
        return JSONResponse(_json(name, gateway.settings.workflows[name], True))
    stored = await store.get(name)
    if stored is None:
        raise NotFound(f"No workflow named {name!r}.", code="workflow_not_found")
    return JSONResponse(_json(name, WorkflowSpec.model_validate(stored), False))


async def delete_workflow(request: Request) -> JSONResponse:
    gateway, store = await _store(request)
    name = request.path_params["name"]
    stored = await store.get(name)
    if stored is None or not await store.delete(name):
        raise NotFound(f"No workflow named {name!r} in the admin API.",
                       code="workflow_not_found")
    await audited(gateway, request, "workflow.deleted", f"workflow:{name}",
                  _json(name, WorkflowSpec.model_validate(stored), False), None)
    return JSONResponse({"name": name, "object": "workflow.deleted", "deleted": True})
