"""`GET /openapi.json`: every route the app serves, valid OpenAPI 3.1, request schemas that
accept what the fronts accept and refuse what they refuse, error schemas that match what
each front answers. Against a real gateway process."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest
from starlette.routing import Mount, Route, WebSocketRoute

from relaygate.app import create_app
from relaygate.config import Settings
from tests.support.servers import GatewayProcess, run_gateway

Document = dict[str, Any]
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# the parameter values that reach a real handler (a missing session is that handler's 404)
PATH_VALUES = {"path": "playground.js", "model": "echo"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with run_gateway(tmp_path_factory.mktemp("openapi")) as process:
        yield process


@pytest.fixture(scope="module")
def document(gateway: GatewayProcess) -> Document:
    reply = httpx.get(f"{gateway.base_url}/openapi.json", timeout=30)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    body: Document = reply.json()
    return body


def _template(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", r"{\1}", path)


def _served() -> set[tuple[str, str]]:
    """(method, path) for every route of the app, worked out from Starlette's routes; the
    method is `*` for a route to an ASGI app (it takes any)."""
    served: set[tuple[str, str]] = set()
    for route in create_app(Settings()).routes:
        if isinstance(route, WebSocketRoute):
            served.add(("websocket", _template(route.path)))
        elif isinstance(route, Mount):
            served.add(("get", route.path + "/{path}"))
        else:
            assert isinstance(route, Route)
            path = _template(route.path)
            for method in route.methods - {"HEAD"} if route.methods else {"*"}:
                if "{model_action}" in path:  # Gemini: models/{model}:<method>
                    for action in ("generateContent", "streamGenerateContent", "countTokens"):
                        served.add(
                            (method.lower(), path.replace("{model_action}", "{model}:" + action))
                        )
                else:
                    served.add((method.lower(), path))
    return served


def _documented(document: Document, any_method: set[str]) -> set[tuple[str, str]]:
    found = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path in any_method:
                method = "*"
            found.add(("websocket" if operation.get("x-websocket") else method, path))
    return found


def test_every_route_the_app_serves_is_documented(document: Document) -> None:
    served = _served()
    assert len(served) > 40
    assert served == _documented(document, {path for method, path in served if method == "*"})
    assert set(document["paths"]["/mcp"]) == {"get", "post"}
    assert ("websocket", "/v1/responses") in served and ("post", "/v1/responses") in served
    assert ("websocket", "/ws/chat/{conversation_id}") in served


def test_every_documented_path_reaches_a_handler(
    gateway: GatewayProcess, document: Document
) -> None:
    """What a fuzzer would do: each operation, its parameters filled in, is answered by its
    handler (never the router's 404 or 405)."""
    with httpx.Client(base_url=gateway.base_url, timeout=10) as client:
        for path, item in document["paths"].items():
            url = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "x"), path)
            for method, operation in item.items():
                if operation.get("x-websocket") or (path == "/mcp" and method == "get"):
                    continue  # an upgrade; MCP's GET stream stays open
                body = {} if "requestBody" in operation else None
                with client.stream(method.upper(), url, json=body) as reply:
                    text = reply.read().decode() if "stream" not in url else ""
                    assert reply.status_code != 405, (method, path)
                    assert not (reply.status_code == 404 and '"Not Found"' in text), (method, path)


_OPERATION = {
    "type": "object",
    "required": ["operationId", "responses"],
    "properties": {
        "operationId": {"type": "string", "pattern": "^[A-Za-z0-9_]+$"},
        "summary": {"type": "string"},
        "parameters": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "in", "schema"],
                "properties": {"in": {"enum": ["path", "query", "header", "cookie"]}},
                "if": {"properties": {"in": {"const": "path"}}},
                "then": {"required": ["required"], "properties": {"required": {"const": True}}},
            },
        },
        "requestBody": {
            "type": "object",
            "required": ["content"],
            "properties": {"content": {"type": "object", "minProperties": 1}},
        },
        "responses": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": "^([1-5]XX|[1-5][0-9][0-9]|default)$"},
            "additionalProperties": {"type": "object", "required": ["description"]},
        },
    },
}
OPENAPI_31 = {  # the structure of an OpenAPI 3.1 document, as far as this one uses it
    "type": "object",
    "required": ["openapi", "info", "paths"],
    "properties": {
        "openapi": {"type": "string", "pattern": r"^3\.1\.\d+$"},
        "info": {
            "type": "object",
            "required": ["title", "version"],
            "properties": {"title": {"type": "string"}, "version": {"type": "string"}},
        },
        "paths": {
            "type": "object",
            "propertyNames": {"pattern": "^/"},
            "additionalProperties": {
                "type": "object",
                "propertyNames": {"enum": sorted(HTTP_METHODS)},
                "additionalProperties": _OPERATION,
            },
        },
        "components": {
            "type": "object",
            "properties": {
                "schemas": {"type": "object", "propertyNames": {"pattern": r"^[A-Za-z0-9._-]+$"}},
                "securitySchemes": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "required": ["type"],
                        "properties": {
                            "type": {
                                "enum": ["apiKey", "http", "oauth2", "openIdConnect", "mutualTLS"]
                            }
                        },
                    },
                },
            },
        },
        "security": {"type": "array", "items": {"type": "object"}},
    },
}


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_the_document_is_valid_openapi_3_1(document: Document) -> None:
    jsonschema.validate(document, OPENAPI_31)
    operation_ids = [
        op["operationId"] for item in document["paths"].values() for op in item.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))
    for path, item in document["paths"].items():  # each template parameter is declared
        for operation in item.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"\{(\w+)\}", path)), path
    schemas = document["components"]["schemas"]
    for schema in schemas.values():
        jsonschema.Draft202012Validator.check_schema(schema)
    for ref in _refs(document):  # every reference resolves inside the document
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    schemes = document["components"]["securitySchemes"]
    assert all(set(requirement) <= set(schemes) for requirement in document["security"])


def _validator(document: Document, schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator for `schema` whose `#/components/...` references resolve in `document`."""
    return jsonschema.Draft202012Validator({**schema, "components": document["components"]})


def _request_schema(document: Document, path: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["paths"][path]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    return schema


REQUESTS = [  # path, its wire model, a body the front accepts, one it refuses with 400
    (
        "/v1/chat/completions",
        "ChatRequest",
        {"model": "echo", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5},
        {"model": "echo", "messages": [{"role": "wizard", "content": "hi"}]},
    ),
    (
        "/v1/messages",
        "MessagesRequest",
        {"model": "echo", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
        {
            "model": "echo",
            "max_tokens": 5,
            "temperature": 1.5,
            "messages": [{"role": "user", "content": "hi"}],
        },
    ),
    (
        "/v1/responses",
        "CreateResponse",
        {"model": "echo", "input": [{"type": "message", "role": "user", "content": "hi"}]},
        {"model": "echo", "input": [{"type": "no_such_item"}]},
    ),
    (
        "/v1beta/models/{model}:generateContent",
        "GenerateContentRequest",
        {
            "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
            "generationConfig": {"temperature": 0},
        },
        {"contents": []},
    ),
]


@pytest.mark.parametrize(("path", "model", "good", "bad"), REQUESTS)
def test_request_schemas_accept_and_refuse_what_the_front_does(
    gateway: GatewayProcess,
    document: Document,
    path: str,
    model: str,
    good: dict[str, Any],
    bad: dict[str, Any],
) -> None:
    schema = _request_schema(document, path)
    assert schema == {"$ref": f"#/components/schemas/{model}"}
    validator = _validator(document, schema)
    url = gateway.base_url + path.replace("{model}", "echo")
    assert list(validator.iter_errors(good)) == []
    assert httpx.post(url, json=good, timeout=10).status_code == 200
    assert list(validator.iter_errors(bad)) != []
    assert httpx.post(url, json=bad, timeout=10).status_code == 400


ERRORS = [  # a request that fails, the error schema of its front
    ("post", "/v1/chat/completions", "/v1/chat/completions", {}, "OpenAIError"),
    ("post", "/v1/messages", "/v1/messages", {}, "AnthropicError"),
    ("post", "/v1/messages/count_tokens", "/v1/messages/count_tokens", {}, "AnthropicError"),
    (
        "post",
        "/v1beta/models/{model}:countTokens",
        "/v1beta/models/nope:countTokens",
        {},
        "GeminiError",
    ),
    ("get", "/v1beta/models/{model}", "/v1beta/models/nope", None, "GeminiError"),
    ("post", "/v1/responses", "/v1/responses", {"model": 3}, "OpenAIError"),
    ("get", "/api/sessions/{session_id}", "/api/sessions/nope", None, "OpenAIError"),
    ("post", "/api/tools/{name}/invoke", "/api/tools/nope/invoke", {}, "OpenAIError"),
]


@pytest.mark.parametrize(("method", "path", "url", "body", "model"), ERRORS)
def test_error_schemas_match_what_each_front_answers(
    gateway: GatewayProcess,
    document: Document,
    method: str,
    path: str,
    url: str,
    body: dict[str, Any] | None,
    model: str,
) -> None:
    responses = document["paths"][path][method]["responses"]
    schema = responses["4XX"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": f"#/components/schemas/{model}"}
    assert responses["5XX"] == responses["4XX"]
    reply = httpx.request(method.upper(), gateway.base_url + url, json=body, timeout=10)
    assert 400 <= reply.status_code < 500
    _validator(document, schema).validate(reply.json())
    for other in {"OpenAIError", "AnthropicError", "GeminiError"} - {model}:  # not the others'
        other_schema = {"$ref": f"#/components/schemas/{other}"}
        assert list(_validator(document, other_schema).iter_errors(reply.json())) != []


def test_the_document_loads_nothing_at_start_up() -> None:
    """Building the app imports none of the modules the document's models live in."""
    script = (
        "import sys\n"
        "from relaygate.app import create_app\n"
        "from relaygate.config import Settings\n"
        "create_app(Settings())\n"
        "heavy = ['sqlalchemy', 'relaygate.fronts.responses.compact', "
        "'relaygate.agents.sessions.requests', 'relaygate.fronts.openapi_schemas']\n"
        "print([name for name in heavy if name in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
