"""The sessions API (tenant-scoped; another tenant's session is a 404):

    POST   /api/sessions                          create {model, system?, tools?, ttl_seconds?,
                                                  metadata?, context?, allowed_models?,
                                                  max_context_tokens?, max_output_tokens?}
    GET    /api/sessions                          list (?limit, ?after, ?order, ?metadata[k]=v)
    GET    /api/sessions/{id}                     one session with its usage
    DELETE /api/sessions/{id}
    POST   /api/sessions/{id}/messages            one turn {message | content, model?, stream?,
                                                  tools? (the session's tools from this turn on)}
    GET    /api/sessions/{id}/messages            history (?after=<seq>, ?limit, ?order)
    GET    /api/sessions/{id}/usage               tokens and cost
    GET    /api/sessions/{id}/context             every context variable
    PUT    /api/sessions/{id}/context/{key}       {"value": <any JSON>}
    GET    /api/sessions/{id}/context/{key}       {"key", "value"}
    DELETE /api/sessions/{id}/context/{key}
    GET    /api/sessions/{id}/stream              live events (session_stream.py)

A streamed turn (`stream: true`) answers with the session's own SSE events (`message`,
`chunk`, `tool_call`, `tool_result`, `message.completed` or `error`), each with the `id:`
it has in the session stream, so a client can resume there with Last-Event-ID.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from relaygate.agents.sessions.outcome import TurnResult, completed_payload
from relaygate.agents.sessions.render import context_json, message_json, session_json, usage_json
from relaygate.agents.sessions.requests import CreateSession, PostMessage, PutContext
from relaygate.agents.sessions.service import SessionService
from relaygate.errors import InvalidRequest
from relaygate.fronts.common import (
    authenticate,
    context_of,
    gateway_of,
    int_query,
    list_page,
    read_json_object,
)
from relaygate.fronts.session_stream import live_turn
from relaygate.pipeline.access import check_model
from relaygate.pipeline.call import Endpoint, Origin
from relaygate.prompts.ref import METADATA_KEY, TEMPLATES_OFF
from relaygate.translate.validation import validate_wire


async def _service(request: Request) -> tuple[SessionService, str]:
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    return (await gateway.agents()).sessions, principal.tenant


def _descending(request: Request, default: str) -> bool:
    order = request.query_params.get("order", default)
    if order not in ("asc", "desc"):
        raise InvalidRequest(
            "Invalid value for 'order': expected 'asc' or 'desc'.",
            param="order",
            code="invalid_value",
        )
    return order == "desc"


def _metadata_filter(request: Request) -> dict[str, str]:
    """`?metadata[team]=blue&metadata[env]=prod` → {"team": "blue", "env": "prod"}."""
    wanted = {}
    for name, value in request.query_params.multi_items():
        if name.startswith("metadata[") and name.endswith("]") and len(name) > len("metadata[]"):
            wanted[name[len("metadata[") : -1]] = value
    return wanted


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def create_session(request: Request) -> Response:
    service, tenant = await _service(request)
    _, body = await read_json_object(request, gateway_of(request))
    body_ = validate_wire(CreateSession, body)
    principal = context_of(request).principal
    if principal is not None:
        check_model(principal, body_.model)
    if METADATA_KEY in body_.metadata and gateway_of(request).prompts is None:
        raise InvalidRequest(TEMPLATES_OFF, param=f"metadata.{METADATA_KEY}", code="prompts_off")
    row = await service.create(tenant, body_, principal=principal)
    return _json(session_json(row))


async def list_sessions(request: Request) -> Response:
    service, tenant = await _service(request)
    rows, has_more = await service.page(
        tenant,
        limit=int_query(request, "limit", 20, 1, 100),
        after=request.query_params.get("after"),
        descending=_descending(request, "desc"),
        metadata=_metadata_filter(request),
    )
    return _json(
        list_page(
            [session_json(row) for row in rows],
            rows[0].id if rows else None,
            rows[-1].id if rows else None,
            has_more,
        )
    )


async def get_session(request: Request) -> Response:
    service, tenant = await _service(request)
    return _json(session_json(await service.get(tenant, request.path_params["session_id"])))


async def delete_session(request: Request) -> Response:
    service, tenant = await _service(request)
    session_id = request.path_params["session_id"]
    await service.delete(tenant, session_id)
    return _json({"id": session_id, "object": "session.deleted", "deleted": True})


async def post_message(request: Request) -> Response:
    service, _ = await _service(request)
    _, raw = await read_json_object(request, gateway_of(request))
    body = validate_wire(PostMessage, raw)
    context = context_of(request)
    assert context.principal is not None  # set by _service
    origin = Origin(context.principal, context.request_id, Endpoint.SESSION, context)
    prepared = await service.prepare(origin, request.path_params["session_id"], body)
    context.model = prepared.model
    if not prepared.live:
        result: TurnResult = await asyncio.shield(service.start_turn(prepared))
        return _json(completed_payload(result))
    return live_turn(service, prepared)


async def list_messages(request: Request) -> Response:
    service, tenant = await _service(request)
    descending = _descending(request, "asc")
    rows, has_more = await service.history(
        tenant,
        request.path_params["session_id"],
        after=int_query(request, "after", 0, 0, 2**31 - 1),
        limit=int_query(request, "limit", 100, 1, 1000),
        descending=descending,
    )
    return _json(
        list_page(
            [message_json(row) for row in rows],
            rows[0].seq if rows else None,
            rows[-1].seq if rows else None,
            has_more,
        )
    )


async def session_usage(request: Request) -> Response:
    service, tenant = await _service(request)
    return _json(usage_json(await service.get(tenant, request.path_params["session_id"])))


async def list_context(request: Request) -> Response:
    service, tenant = await _service(request)
    rows = await service.context_items(tenant, request.path_params["session_id"])
    return _json({"object": "list", "data": [context_json(row) for row in rows]})


async def context_variable(request: Request) -> Response:
    service, tenant = await _service(request)
    session_id, key = request.path_params["session_id"], request.path_params["key"]
    if request.method == "PUT":
        _, raw = await read_json_object(request, gateway_of(request))
        body = validate_wire(PutContext, raw)
        await service.put_context(tenant, session_id, key, body.value)
        return _json({"key": key, "value": body.value})
    if request.method == "DELETE":
        await service.delete_context(tenant, session_id, key)
        return _json({"key": key, "deleted": True})
    row = await service.context_item(tenant, session_id, key)
    return _json(context_json(row))
