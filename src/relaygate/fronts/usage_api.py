"""`GET /v1/usage`: a key's own totals (by model, day or provider), and the answer both
usage endpoints give.

This instance's queued ledger rows are flushed first, so a caller reads its own writes;
rows another instance still holds appear within its `ledger.flush_interval_ms`. The
ledger's table module (SQLAlchemy) loads on the first request.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from relaygate.fronts.common import authenticate, context_of, gateway_of
from relaygate.lazy_import import import_module
from relaygate.ledger.query import OWN_GROUPS, UsageQuery, parse_query
from relaygate.ledger.report import usage_csv, usage_json
from relaygate.services import Gateway

STORE = "relaygate.store.usage_ledger"


async def usage_response(
    gateway: Gateway,
    query: UsageQuery,
    tenant: str | None = None,
    key_id: str | None = None,
    only_key: bool = False,
) -> Response:
    """The totals `query` asks for (of one key's rows with `only_key`), as JSON or CSV."""
    if gateway.ledger is not None:
        await gateway.ledger.flush()
    store = await import_module(STORE)
    groups = await store.totals(await gateway.database(), query.group_by, query.since,
                                query.until, tenant, key_id, only_key)
    if query.csv:
        return Response(usage_csv(query, groups), media_type="text/csv")
    return JSONResponse(usage_json(query, groups))


async def own_usage(request: Request) -> Response:
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    query = parse_query(request.query_params, OWN_GROUPS)
    return await usage_response(gateway, query, principal.tenant, principal.key_id,
                                only_key=True)


routes = [Route("/v1/usage", own_usage, methods=["GET"])]
