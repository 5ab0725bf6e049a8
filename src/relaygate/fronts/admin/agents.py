"""Named agents through the admin API (those in the config file are listed, not changed):

    POST   /admin/agents           {name, model, instructions?, description?, tools?,
                                    max_steps?, max_seconds?, budget?: {max_usd},
                                    max_output_tokens?, ttl_seconds?, tenant?}
    GET    /admin/agents           every agent, the config file's marked `source: config`
    GET    /admin/agents/{name}
    PATCH  /admin/agents/{name}    the fields given replace the agent's
    DELETE /admin/agents/{name}
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from relaygate.agents.named.catalog import AgentCatalog
from relaygate.agents.named.spec import AgentChanges, AgentSpec, NamedAgent
from relaygate.fronts.admin.audit import audited
from relaygate.fronts.admin.auth import require_admin
from relaygate.fronts.common import read_json_object
from relaygate.translate.validation import validate_wire


def agent_json(name: str, spec: AgentSpec, catalog: AgentCatalog) -> dict[str, Any]:
    source = "config" if name in catalog.configured else "admin"
    return {"name": name, "object": "agent", "source": source, **spec.model_dump()}


async def _catalog(request: Request) -> AgentCatalog:
    gateway = await require_admin(request)
    return (await gateway.agents()).agents


async def create_agent(request: Request) -> JSONResponse:
    catalog = await _catalog(request)
    _, raw = await read_json_object(request, request.app.state.gateway)
    body = validate_wire(NamedAgent, raw)
    spec = body.spec()
    await catalog.create(body.name, spec)
    view = agent_json(body.name, spec, catalog)
    await audited(request.app.state.gateway, request, "agent.created", f"agent:{body.name}",
                  None, view)
    return JSONResponse(view, status_code=201)


async def list_agents(request: Request) -> JSONResponse:
    catalog = await _catalog(request)
    agents = await catalog.all()
    return JSONResponse({"object": "list",
                         "data": [agent_json(name, spec, catalog)
                                  for name, spec in agents.items()]})


async def get_agent(request: Request) -> JSONResponse:
    catalog = await _catalog(request)
    name = request.path_params["name"]
    return JSONResponse(agent_json(name, await catalog.get(name), catalog))


async def update_agent(request: Request) -> JSONResponse:
    catalog = await _catalog(request)
    name = request.path_params["name"]
    _, raw = await read_json_object(request, request.app.state.gateway)
    changes = validate_wire(AgentChanges, raw)
    current = await catalog.get(name)
    spec = AgentSpec.model_validate(
        {**current.model_dump(), **changes.model_dump(include=changes.model_fields_set)}
    )
    await catalog.replace(name, spec)
    view = agent_json(name, spec, catalog)
    await audited(request.app.state.gateway, request, "agent.updated", f"agent:{name}",
                  agent_json(name, current, catalog), view)
    return JSONResponse(view)


async def delete_agent(request: Request) -> JSONResponse:
    catalog = await _catalog(request)
    name = request.path_params["name"]
    stored = await catalog.store.get(name)  # None: delete answers the 404
    await catalog.delete(name)
    before = agent_json(name, AgentSpec.model_validate(stored), catalog) if stored else None
    await audited(request.app.state.gateway, request, "agent.deleted", f"agent:{name}",
                  before, None)
    return JSONResponse({"name": name, "object": "agent.deleted", "deleted": True})
