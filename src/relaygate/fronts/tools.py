"""`GET /api/tools` and `POST /api/tools/{name}/invoke`: the tool registry over HTTP.

Both answer only with what the caller's policy allows: a denied tool is 403, an unknown
one 404, arguments that do not fit the tool's schema 422 with `param` naming the field.
"""

from __future__ import annotations

import time

import orjson
from starlette.requests import Request
from starlette.responses import Response

from relaygate.errors import InvalidRequest
from relaygate.fronts.common import authenticate, context_of, gateway_of, parse_json, read_body


async def list_tools(request: Request) -> Response:
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    service = (await gateway.agents()).tools
    tools = [tool.public() for tool in service.visible(principal)]
    return Response(
        orjson.dumps({"tools": tools, "count": len(tools)}), media_type="application/json"
    )


async def invoke_tool(request: Request) -> Response:
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    name = request.path_params["name"]
    raw = await read_body(request, gateway.settings.server.max_body_bytes)
    arguments = parse_json(raw) if raw.strip() else {}
    if not isinstance(arguments, dict):
        raise InvalidRequest(
            "The body must be a JSON object of the tool's arguments.", code="invalid_json"
        )
    started = time.perf_counter()
    output = await (await gateway.agents()).tools.invoke(principal, name, arguments)
    body = {
        "name": name,
        "output": output,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
    }
    return Response(orjson.dumps(body, default=str), media_type="application/json")
