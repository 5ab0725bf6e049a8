"""What every front does first: find the services, read the body, authenticate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from starlette.requests import Request

from relaygate.errors import InvalidRequest, PayloadTooLarge
from relaygate.pipeline.auth import Principal
from relaygate.pipeline.context import RequestContext
from relaygate.services import Gateway

T = TypeVar("T")
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")


def gateway_of(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def context_of(request: Request) -> RequestContext:
    context: RequestContext | None = request.scope.get("state", {}).get("context")
    if context is None:  # served without the request-log middleware (unit tests)
        context = RequestContext("req_local")
        request.scope.setdefault("state", {})["context"] = context
    return context


async def authenticate(request: Request, gateway: Gateway, context: RequestContext) -> Principal:
    """The caller (auth hooks, then the keys), recorded on the request's context."""
    scope = request.scope
    query_key = request.query_params.get("key") if b"key=" in scope["query_string"] else None
    principal = await gateway.authenticate(
        request.headers, query_key, scope["path"], scope["method"]
    )
    context.principal = principal
    return principal


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than `limit` bytes (413) before reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is {declared} bytes; the limit is {limit}.")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body exceeds the limit of {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def int_query(request: Request, name: str, default: int, low: int, high: int) -> int:
    """The query parameter `name` as a whole number from `low` to `high` (400 otherwise)."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not _WHOLE_NUMBER.fullmatch(raw) or not low <= int(raw) <= high:
        raise InvalidRequest(
            f"Invalid value for '{name}': expected a whole number from {low} to {high}.",
            param=name,
            code="invalid_value",
        )
    return int(raw)


def list_page(data: list[Any], first_id: Any, last_id: Any, has_more: bool) -> dict[str, Any]:
    """OpenAI's list envelope (`object: list`, `data`, `first_id`, `last_id`, `has_more`)."""
    return {
        "object": "list",
        "data": data,
        "first_id": first_id,
        "last_id": last_id,
        "has_more": has_more,
    }


def parse_json(raw: bytes) -> Any:
    if not raw:
        raise InvalidRequest(
            "The request body is empty; expected a JSON object.", code="invalid_json"
        )
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(
            f"The request body is not valid JSON: {exc.msg} at position {exc.pos}.",
            code="invalid_json",
        ) from None


async def read_json_object(request: Request, gateway: Gateway) -> tuple[bytes, dict[str, Any]]:
    raw = await read_body(request, gateway.settings.server.max_body_bytes)
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
    return raw, body


def require_model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if model is None:
        raise InvalidRequest("Missing required parameter: 'model'.", param="model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest(
            "Invalid value for 'model': expected a non-empty string.",
            param="model",
            code="invalid_type",
        )
    return model


@dataclass(slots=True)
class ModelRequest:
    """A model front's request once the prologue has run: who asked, and for what."""

    gateway: Gateway
    context: RequestContext
    raw: bytes
    body: dict[str, Any]
    model: str


async def model_request(
    request: Request, model: str | None = None, default_model: str | None = None
) -> ModelRequest:
    """The model fronts' prologue, in order: authenticate, read the JSON body, find the
    model (the body's `model`, unless the URL named it; `default_model` when the body has
    none and the API allows that) and record it on the context. The route is the
    pipeline's business (its route step)."""
    gateway = gateway_of(request)
    context = context_of(request)
    await authenticate(request, gateway, context)
    raw, body = await read_json_object(request, gateway)
    if model is None:
        model = default_model if default_model is not None and "model" not in body else (
            require_model(body))
    context.model = model
    return ModelRequest(gateway, context, raw, body, model)
