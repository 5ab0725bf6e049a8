"""Running named agents (each run is a session; its events are the session's stream):

    POST /v1/agents/{name}/runs     {input, stream?} → the run (or its SSE events)
    GET  /v1/agents/runs/{id}       status, output, usage
    GET  /v1/agents/runs/{id}/events  the run's events; resumes after Last-Event-ID
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, StrictBool
from starlette.requests import Request
from starlette.responses import Response

from relaygate.agents.named.runs import prepare_run, run_json
from relaygate.fronts.common import authenticate, context_of, gateway_of, read_json_object
from relaygate.fronts.session_stream import live_turn, stream_session
from relaygate.pipeline.call import Endpoint, Origin
from relaygate.streaming.sse import event_frame
from relaygate.translate.openai_chat import wire
from relaygate.translate.validation import validate_wire


class RunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: str | list[wire.UserPart]
    stream: StrictBool = False


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def create_run(request: Request) -> Response:
    gateway = gateway_of(request)
    context = context_of(request)
    principal = await authenticate(request, gateway, context)
    _, raw = await read_json_object(request, gateway)
    body = validate_wire(RunBody, raw)
    services = await gateway.agents()
    origin = Origin(principal, context.request_id, Endpoint.SESSION, context)
    prepared = await prepare_run(services.agents, services.sessions, origin,
                                 request.path_params["name"], body.input, stream=body.stream)
    context.model = prepared.model
    if not body.stream:
        await asyncio.shield(services.sessions.start_turn(prepared))
        return _json(await run_json(services.sessions, principal.tenant, prepared.session_id))
    first = event_frame("run.created", {"id": prepared.session_id, "object": "agent.run"})
    return live_turn(services.sessions, prepared, first,
                     {"X-Relaygate-Run-Id": prepared.session_id})


async def get_run(request: Request) -> Response:
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    services = await gateway.agents()
    return _json(await run_json(services.sessions, principal.tenant, request.path_params["id"]))


async def run_events(request: Request) -> Response:
    """The session stream of the run (Last-Event-ID resume as for any session)."""
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    await run_json((await gateway.agents()).sessions, principal.tenant, request.path_params["id"])
    request.path_params["session_id"] = request.path_params["id"]
    return await stream_session(request)
