"""`POST /v1/moderations` (OpenAI's shape): relayed when the model names a configured model
of an OpenAI provider, else answered offline by the guardrails' classifiers.

`input`: a string, a list of strings, or a list of content parts (`text`, `image_url`;
images are not classified offline)."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from relaygate.config import ProviderType
from relaygate.errors import InvalidRequest, ModelNotFound, UpstreamError
from relaygate.fronts.common import authenticate, context_of, gateway_of, read_json_object
from relaygate.lazy_import import import_module
from relaygate.services import Gateway

LOCAL_MODEL = "relaygate-moderation"
_MODULE = "relaygate.guardrails.moderation"  # loads the detectors on first use


def _texts(value: Any) -> list[str | None]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return list(value)
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        texts: list[str | None] = []
        for index, part in enumerate(value):
            if part.get("type") == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif part.get("type") == "image_url":
                texts.append(None)
            else:
                raise InvalidRequest(f"input[{index}]: expected a text or image_url part.",
                                     param=f"input[{index}]")
        return texts
    raise InvalidRequest("'input' must be a string, a list of strings, or a list of "
                         "text / image_url parts.", param="input")


async def _relay(gateway: Gateway, model: str, body: dict[str, Any]) -> Response | None:
    """The upstream's answer when `model` is a configured OpenAI model, else None."""
    try:
        route = gateway.registry.resolve(model)
    except ModelNotFound:
        return None
    provider = gateway.settings.providers.get(route.provider.name)
    if provider is None or provider.type is not ProviderType.OPENAI:
        return None
    base = (provider.base_url or "https://api.openai.com/v1").rstrip("/")
    headers = {"Authorization": f"Bearer {provider.api_key}"} if provider.api_key else {}
    import httpx  # only a relayed moderation needs it: a gateway's start loads no HTTP client

    try:
        async with httpx.AsyncClient(timeout=provider.timeout.read) as client:
            reply = await client.post(f"{base}/moderations", headers=headers,
                                      json={**body, "model": route.upstream_model})
    except httpx.HTTPError as exc:
        raise UpstreamError(f"The upstream provider '{route.provider.name}' did not answer "
                            "the moderation request.") from exc
    return Response(reply.content, reply.status_code, media_type="application/json")


async def create_moderation(request: Request) -> Response:
    gateway = gateway_of(request)
    await authenticate(request, gateway, context_of(request))
    _, body = await read_json_object(request, gateway)
    if "input" not in body:
        raise InvalidRequest("Missing required parameter: 'input'.", param="input")
    texts = _texts(body["input"])
    model = body.get("model") or LOCAL_MODEL
    if not isinstance(model, str):
        raise InvalidRequest("'model' must be a string.", param="model")
    if model != LOCAL_MODEL:
        relayed = await _relay(gateway, model, body)
        if relayed is not None:
            return relayed
    module = await import_module(_MODULE)
    moderator = getattr(request.app.state, "moderator", None)
    if moderator is None:
        moderator = request.app.state.moderator = module.Moderator()
    return JSONResponse({
        "id": f"modr-{secrets.token_hex(12)}",
        "model": model,
        "results": [moderator.classify(text) for text in texts],
    })


routes = [Route("/v1/moderations", create_moderation, methods=["POST"])]
