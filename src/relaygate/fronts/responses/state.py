"""Stored responses: retrieve (and resume a background stream), delete, cancel, and
list input items. Every lookup is by tenant: another tenant's id is a 404."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from relaygate.errors import InvalidRequest, NotFound
from relaygate.fronts.common import authenticate, context_of, gateway_of, int_query, list_page
from relaygate.fronts.responses.background import settle, stop
from relaygate.fronts.responses.context import response_store
from relaygate.fronts.responses.create import follow_log, json_response, sse_frames, sse_response
from relaygate.pipeline.run_leases import RUNNING
from relaygate.services import Gateway
from relaygate.streaming.sse import DONE, event_frame
from relaygate.translate.responses.response import TERMINAL, Status
from relaygate.translate.responses.terminal import terminal_event


def _not_found(response_id: str) -> NotFound:
    return NotFound(f"Response with id '{response_id}' not found.", param="response_id")


async def _owned(request: Request) -> tuple[Gateway, str, str, dict[str, Any]]:
    """(gateway, tenant, id, stored body) for the caller's response; 404 otherwise. A
    background run whose instance is gone is ended (`failed`) first."""
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    response_id = request.path_params["response_id"]
    body = await (await response_store(gateway)).get(principal.tenant, response_id)
    if body is None:
        raise _not_found(response_id)
    body = await settle(gateway, principal.tenant, response_id, body)
    return gateway, principal.tenant, response_id, body


async def retrieve(request: Request) -> Response:
    gateway, _, response_id, body = await _owned(request)
    if request.query_params.get("stream", "").lower() != "true":
        return json_response(body)
    if not body.get("background"):
        raise InvalidRequest(
            "Only background responses can be streamed again; this one was not.",
            param="stream",
        )
    after = int_query(request, "starting_after", 0, 0, 2**31)
    if not await gateway.event_log.exists(response_id):
        if Status(body["status"]) in TERMINAL:  # its events died with an in-process log
            return sse_response(_terminal_only(body, after))
        raise NotFound(
            f"The events of response '{response_id}' are no longer available.",
            param="response_id",
            code="events_expired",
        )
    return sse_response(sse_frames(follow_log(gateway, response_id, after), gateway))


async def _terminal_only(body: dict[str, Any], after: int) -> AsyncGenerator[bytes, None]:
    """The stream of a finished response whose events are gone: its terminal event alone
    (numbered after the client's last), then `[DONE]`."""
    event = terminal_event(body, after + 1)
    yield event_frame(str(event["type"]), event)
    yield DONE


async def delete(request: Request) -> Response:
    gateway, tenant, response_id, body = await _owned(request)
    if body.get("background") and body.get("status") in RUNNING:
        await stop(gateway, tenant, response_id)
    if not await (await response_store(gateway)).delete(tenant, response_id):
        raise _not_found(response_id)
    return json_response({"id": response_id, "object": "response", "deleted": True})


async def cancel(request: Request) -> Response:
    gateway, tenant, response_id, body = await _owned(request)
    if not body.get("background"):
        raise InvalidRequest(
            "Only background responses can be cancelled.", param="response_id"
        )
    if body.get("status") in RUNNING:
        await stop(gateway, tenant, response_id)
    current = await (await response_store(gateway)).get(tenant, response_id)
    return json_response(current or body)


async def input_items(request: Request) -> Response:
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    response_id = request.path_params["response_id"]
    order = request.query_params.get("order", "desc")
    if order not in ("asc", "desc"):
        raise InvalidRequest(
            "Invalid value for 'order': expected 'asc' or 'desc'.", param="order",
            code="invalid_value",
        )
    page = await (await response_store(gateway)).input_items(
        principal.tenant,
        response_id,
        after=request.query_params.get("after"),
        before=request.query_params.get("before"),
        limit=int_query(request, "limit", 20, 1, 100),
        descending=order == "desc",
    )
    if page is None:
        raise _not_found(response_id)
    items = page.items
    return json_response(
        list_page(
            items, items[0]["id"] if items else None, items[-1]["id"] if items else None,
            page.has_more,
        )
    )
