"""`GET /admin/usage?group_by=tenant|key|model|provider|day|prompt_version&from=&to=&format=json|csv`:
every tenant's totals, for the admin key (fronts/usage_api.py answers)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relaygate.fronts.admin.auth import require_admin
from relaygate.fronts.admin.prompt_usage import GROUP, prompt_version_usage
from relaygate.fronts.usage_api import usage_response
from relaygate.ledger.query import ADMIN_GROUPS, parse_query


async def admin_usage(request: Request) -> Response:
    gateway = await require_admin(request)
    if request.query_params.get("group_by") == GROUP:  # prompt versions compared
        return await prompt_version_usage(gateway, parse_query(request.query_params, (GROUP,)))
    return await usage_response(gateway, parse_query(request.query_params, ADMIN_GROUPS))


routes = [Route("/admin/usage", admin_usage, methods=["GET"])]
