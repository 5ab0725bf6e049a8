"""`GET /openapi.json`: an OpenAPI 3.1 document of every route the app serves.

The paths come from the app's own routes (methods, path parameters; WebSocket routes as a
`GET` marked `x-websocket`); each request body's JSON Schema from the wire model that
OPERATIONS names (`model_json_schema`), the errors from the shape fronts/errors.py answers
that path in. A route missing from OPERATIONS is still listed, without a request schema.
The document is built on its first request: the models of the agent fronts are imported
then, in a worker thread, never at start-up.
"""

from __future__ import annotations

import asyncio
import importlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from relaygate import __version__
from relaygate.fronts.errors import error_body_for_path
from relaygate.lazy_import import import_module
from relaygate.translate.error_bodies import (
    ErrorBody,
    anthropic_error_body,
    gemini_error_body,
    openai_error_body,
)

SCHEMAS = "relaygate.fronts.openapi_schemas"
CHAT = "relaygate.translate.openai_chat.wire"
ANTHROPIC = "relaygate.translate.anthropic.wire"
GEMINI = "relaygate.translate.gemini.wire"
RESPONSES = "relaygate.translate.responses.wire"
SESSIONS = "relaygate.agents.sessions.requests"
ADMIN = "relaygate.fronts.admin.bodies"
PROMPTS = "relaygate.prompts.content"
WEBSOCKET = "WEBSOCKET"  # the method OPERATIONS files WebSocket routes under
APP_METHODS = ("GET", "POST")  # listed for a route to an ASGI app that OPERATIONS leaves out


@dataclass(frozen=True, slots=True)
class Operation:
    summary: str
    request: str | None = None  # "module:Model", the JSON body (for WebSocket: each message)
    status: str = "200"


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("POST", "/v1/chat/completions"): Operation(
        "OpenAI Chat Completions (SSE with `stream: true`)", f"{CHAT}:ChatRequest"
    ),
    ("POST", "/v1/messages"): Operation(
        "Anthropic Messages (SSE with `stream: true`)", f"{ANTHROPIC}:MessagesRequest"
    ),
    ("POST", "/v1/messages/count_tokens"): Operation(
        "Anthropic token counting", f"{ANTHROPIC}:CountTokensRequest"
    ),
    ("GET", "/v1/models"): Operation("The models this key can use"),
    ("GET", "/v1/models/{model}"): Operation("One model"),
    ("GET", "/v1beta/models"): Operation("The models, in Gemini's shape"),
    ("GET", "/v1beta/models/{model}"): Operation("One model, in Gemini's shape"),
    ("GET", "/healthz"): Operation("Liveness, with the providers"),
    ("GET", "/readyz"): Operation("Readiness (503 while draining)"),
    ("GET", "/metrics"): Operation("Prometheus metrics"),
    ("POST", "/v1/responses"): Operation(
        "Create a response (plain, SSE, background)", f"{RESPONSES}:CreateResponse"
    ),
    (WEBSOCKET, "/v1/responses"): Operation(
        "Responses WebSocket mode: `response.create` messages", f"{RESPONSES}:CreateResponse"
    ),
    ("POST", "/v1/responses/compact"): Operation(
        "Compact a conversation", f"{RESPONSES}:CompactRequest"
    ),
    ("GET", "/v1/responses/{response_id}"): Operation(
        "A stored response; `?stream=true&starting_after=N` resumes a background run"
    ),
    ("DELETE", "/v1/responses/{response_id}"): Operation("Delete a stored response"),
    ("POST", "/v1/responses/{response_id}/cancel"): Operation("Cancel a background run"),
    ("GET", "/v1/responses/{response_id}/input_items"): Operation("A response's input items"),
    ("POST", "/api/sessions"): Operation("Create a session", f"{SESSIONS}:CreateSession"),
    ("GET", "/api/sessions"): Operation("List sessions"),
    ("GET", "/api/sessions/{session_id}"): Operation("One session"),
    ("DELETE", "/api/sessions/{session_id}"): Operation("Delete a session and its workspace"),
    ("POST", "/api/sessions/{session_id}/messages"): Operation(
        "Run a turn (SSE with `stream: true`)", f"{SESSIONS}:PostMessage"
    ),
    ("GET", "/api/sessions/{session_id}/messages"): Operation("A session's history"),
    ("GET", "/api/sessions/{session_id}/usage"): Operation("A session's usage"),
    ("GET", "/api/sessions/{session_id}/context"): Operation("A session's context variables"),
    ("GET", "/api/sessions/{session_id}/context/{key}"): Operation("One context variable"),
    ("PUT", "/api/sessions/{session_id}/context/{key}"): Operation(
        "Set a context variable", f"{SESSIONS}:PutContext"
    ),
    ("DELETE", "/api/sessions/{session_id}/context/{key}"): Operation("Remove a context variable"),
    ("GET", "/api/sessions/{session_id}/stream"): Operation("A session's live events (SSE)"),
    ("GET", "/api/tools"): Operation("The tools this key may use"),
    ("POST", "/api/tools/{name}/invoke"): Operation("Run a tool", f"{SCHEMAS}:ToolArguments"),
    ("GET", "/mcp"): Operation("MCP (Streamable HTTP): the server's stream"),
    ("POST", "/mcp"): Operation("MCP (Streamable HTTP): a JSON-RPC message"),
    (WEBSOCKET, "/ws/chat/{conversation_id}"): Operation("Realtime chat room (WebSocket)"),
    ("GET", "/health/ws"): Operation("Realtime chat health"),
    ("POST", "/v1/agents/messages"): Operation(
        "Send an agent message", f"{SCHEMAS}:SendAgentMessage", status="201"
    ),
    ("GET", "/v1/agents/{agent_id}/messages"): Operation("An agent's messages (long poll)"),
    ("GET", "/v1/agents/{agent_id}/messages/stream"): Operation("An agent's messages (SSE)"),
    ("POST", "/v1/agents/{agent_id}/messages/ack"): Operation(
        "Acknowledge messages", f"{SCHEMAS}:AcknowledgeMessages"
    ),
    ("GET", "/.well-known/agent-card.json"): Operation("A2A: the directory of your agents"),
    ("GET", "/a2a/{name}/.well-known/agent-card.json"): Operation("A2A: one agent's card"),
    ("POST", "/a2a/{name}"): Operation("A2A JSON-RPC (message/send, message/stream, tasks/...)"),
    ("POST", "/admin/keys"): Operation(
        "Create a key (admin; the secret is shown once)", f"{ADMIN}:KeyBody", status="201"
    ),
    ("GET", "/admin/keys"): Operation("List keys (admin)"),
    ("GET", "/admin/keys/{key_id}"): Operation("One key (admin)"),
    ("PATCH", "/admin/keys/{key_id}"): Operation("Change a key (admin)", f"{ADMIN}:KeyChanges"),
    ("POST", "/admin/keys/{key_id}/rotate"): Operation(
        "Rotate a key's secret (admin)", f"{ADMIN}:RotateBody"
    ),
    ("DELETE", "/admin/keys/{key_id}"): Operation("Revoke a key (admin)"),
    ("POST", "/admin/tenants"): Operation(
        "Create a tenant (admin)", f"{ADMIN}:TenantBody", status="201"
    ),
    ("GET", "/admin/tenants"): Operation("List tenants (admin)"),
    ("GET", "/admin/tenants/{name}"): Operation("One tenant (admin)"),
    ("PATCH", "/admin/tenants/{name}"): Operation(
        "Change a tenant (admin)", f"{ADMIN}:TenantChanges"
    ),
    ("POST", "/admin/prompts"): Operation(
        "Create a prompt template with its v1 (admin)", f"{PROMPTS}:TemplateBody", status="201"
    ),
    ("GET", "/admin/prompts"): Operation("List prompt templates (admin)"),
    ("GET", "/admin/prompts/{id}"): Operation("One prompt template with its versions (admin)"),
    ("DELETE", "/admin/prompts/{id}"): Operation("Archive a prompt template (admin)"),
    ("POST", "/admin/prompts/{id}/versions"): Operation(
        "The next version of a prompt template (admin)", f"{PROMPTS}:VersionContent",
        status="201"
    ),
    ("PUT", "/admin/prompts/{id}/labels/{label}"): Operation(
        "Point a label at a version, or split it by weight (admin)", f"{PROMPTS}:LabelBody"
    ),
    ("GET", "/admin/prompts/{id}/diff"): Operation("Two versions compared (admin; ?from=&to=)"),
    ("POST", "/v1/feedback"): Operation(
        "A user's score of a call, for the prompt-version comparison",
        "relaygate.fronts.feedback:FeedbackBody", status="201"
    ),
    ("GET", "/admin"): Operation("The admin page (static; it calls the admin API)"),
    ("GET", "/v1/usage"): Operation(
        "This key's own usage: requests, tokens, cost by model, day or provider (`?format=csv`)"
    ),
    ("GET", "/admin/usage"): Operation(
        "Usage totals by tenant, key, model, provider, day or prompt_version (admin key; "
        "`?format=csv`)"
    ),
    ("GET", "/"): Operation("The playground page"),
    ("GET", "/static/{path}"): Operation("The playground's files"),
    ("GET", "/openapi.json"): Operation("This document"),
}

# A route with a `{model_action}` parameter is Gemini's `models/{model}:<action>`.
GEMINI_ACTIONS: dict[str, Operation] = {
    "generateContent": Operation("Gemini generateContent", f"{GEMINI}:GenerateContentRequest"),
    "streamGenerateContent": Operation(
        "Gemini streamGenerateContent (SSE with `?alt=sse`, else a JSON array)",
        f"{GEMINI}:GenerateContentRequest",
    ),
    "countTokens": Operation("Gemini token counting", f"{SCHEMAS}:GeminiCountTokens"),
}

ERROR_MODELS: dict[ErrorBody, str] = {
    openai_error_body: f"{SCHEMAS}:OpenAIError",
    anthropic_error_body: f"{SCHEMAS}:AnthropicError",
    gemini_error_body: f"{SCHEMAS}:GeminiError",
}

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer"},
    "x-api-key": {"type": "apiKey", "in": "header", "name": "x-api-key"},
    "x-goog-api-key": {"type": "apiKey", "in": "header", "name": "x-goog-api-key"},
    "key": {"type": "apiKey", "in": "query", "name": "key"},
}

_CONVERTOR = re.compile(r"\{(\w+)(?::\w+)?\}")
_PARAMETER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class _Entry:
    path: str  # as OpenAPI writes it: `{name}`, no convertor
    method: str  # GET for a WebSocket route
    operation: Operation | None
    websocket: bool = False


def _entries(routes: Sequence[BaseRoute]) -> Iterator[_Entry]:
    """One entry per path and method the routes serve."""
    for route in routes:
        if isinstance(route, Route):
            path = _CONVERTOR.sub(r"{\1}", route.path)
            methods = sorted(route.methods - {"HEAD"}) if route.methods else _app_methods(path)
            for method in methods:
                if "{model_action}" in path:
                    for action, operation in GEMINI_ACTIONS.items():
                        action_path = path.replace("{model_action}", "{model}:" + action)
                        yield _Entry(action_path, method, operation)
                else:
                    yield _Entry(path, method, OPERATIONS.get((method, path)))
        elif isinstance(route, WebSocketRoute):
            path = _CONVERTOR.sub(r"{\1}", route.path)
            yield _Entry(path, "GET", OPERATIONS.get((WEBSOCKET, path)), websocket=True)
        elif isinstance(route, Mount):
            path = route.path + "/{path}"
            yield _Entry(path, "GET", OPERATIONS.get(("GET", path)))


def _error_body(path: str) -> ErrorBody:
    """The error shape of a documented path (Gemini's methods under `/v1` included)."""
    if path.startswith(("/v1beta/", "/v1/models/{model}:")):
        return gemini_error_body
    return error_body_for_path(path)


def _app_methods(path: str) -> list[str]:
    """The methods of a route to an ASGI app (which takes any): those OPERATIONS lists."""
    listed = [method for method, known in OPERATIONS if known == path and method != WEBSOCKET]
    return sorted(listed) or list(APP_METHODS)


def _references(routes: Sequence[BaseRoute]) -> list[str]:
    """Every model the document needs, in a stable order."""
    wanted = [entry.operation.request for entry in _entries(routes) if entry.operation]
    return list(dict.fromkeys([*(ref for ref in wanted if ref), *ERROR_MODELS.values()]))


def _model(reference: str) -> type[BaseModel]:
    module_name, _, name = reference.partition(":")
    model: type[BaseModel] = getattr(importlib.import_module(module_name), name)
    return model


def build_document(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI document of `routes` (imports the models it names)."""
    references = _references(routes)
    models = {reference: _model(reference) for reference in references}
    keys, definitions = models_json_schema(
        [(model, "validation") for model in models.values()],
        ref_template="#/components/schemas/{model}",
    )

    def schema(reference: str) -> dict[str, Any]:
        return dict(keys[(models[reference], "validation")])

    paths: dict[str, dict[str, Any]] = {}
    for entry in _entries(routes):
        paths.setdefault(entry.path, {})[entry.method.lower()] = _operation(entry, schema)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "relaygate",
            "version": __version__,
            "description": "An AI agent gateway: OpenAI, Anthropic and Gemini APIs, "
            "Responses, sessions, tools, MCP, realtime chat and agent messages.",
        },
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": SECURITY_SCHEMES,
        },
        # any one key; none at all while the gateway runs open
        "security": [*({name: []} for name in SECURITY_SCHEMES), {}],
    }


def _operation(entry: _Entry, schema: Any) -> dict[str, Any]:
    operation = entry.operation
    slug = re.sub(r"[^A-Za-z0-9]+", "_", entry.path).strip("_") or "root"
    document: dict[str, Any] = {
        "operationId": f"{'websocket' if entry.websocket else entry.method.lower()}_{slug}",
        "summary": operation.summary if operation else f"{entry.method} {entry.path}",
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAMETER.findall(entry.path)
    ]
    if parameters:
        document["parameters"] = parameters
    if entry.websocket:
        document["x-websocket"] = True
        if operation and operation.request:
            document["x-websocket-message"] = schema(operation.request)
        document["responses"] = {"101": {"description": "Switching Protocols (WebSocket)"}}
        return document
    if operation and operation.request:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema(operation.request)}},
        }
    error = {
        "description": "An error, in this front's format",
        "content": {
            "application/json": {"schema": schema(ERROR_MODELS[_error_body(entry.path)])}
        },
    }
    status = operation.status if operation else "200"
    document["responses"] = {status: {"description": "Success"}, "4XX": error, "5XX": error}
    return document


async def openapi_document(request: Request) -> Response:
    """`GET /openapi.json`: built on the first request, then served from memory."""
    body: bytes | None = getattr(request.app.state, "openapi", None)
    if body is None:
        routes = request.app.routes
        for reference in _references(routes):  # the agent fronts' modules, in a thread
            await import_module(reference.partition(":")[0])
        body = await asyncio.to_thread(lambda: orjson.dumps(build_document(routes)))
        request.app.state.openapi = body
    return Response(body, media_type="application/json")


routes = [Route("/openapi.json", openapi_document, methods=["GET"])]
