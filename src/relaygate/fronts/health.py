"""Liveness, readiness and the model list (in Gemini's shape for a Gemini client, see
`fronts/dialect.py`)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from relaygate.fronts import gemini
from relaygate.fronts.common import authenticate, context_of, gateway_of
from relaygate.fronts.dialect import speaks_gemini
from relaygate.pipeline.access import check_model


async def healthz(request: Request) -> Response:
    gateway = gateway_of(request)
    providers = [
        {"name": name, "type": type(provider).__name__}
        for name, provider in gateway.registry.providers.items()
    ]
    body: dict[str, object] = {"status": "ok", "providers": providers}
    if gateway.registry.router.deployments:
        body["breakers"] = gateway.registry.router.breaker_states()
    return JSONResponse(body)


async def readyz(request: Request) -> Response:
    gateway = gateway_of(request)
    if gateway.stopping:
        return JSONResponse({"status": "draining"}, status_code=503)
    return JSONResponse({"status": "ready"})


async def list_models(request: Request) -> Response:
    if speaks_gemini(request):  # google-genai's `models.list()` on API version v1
        return await gemini.list_models(request)
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    allowed = principal.grant.allows_model if principal.grant is not None else None
    data = [
        {"id": name, "object": "model", "created": 0, "owned_by": provider}
        for name, provider, _ in gateway.registry.table()
        if provider not in ("alias", "rewrite") and not name.endswith(":*")
        and (allowed is None or allowed(name))
    ]
    data += [
        {"id": name, "object": "model", "created": 0, "owned_by": "alias"}
        for name, provider, _ in gateway.registry.table()
        if provider == "alias" and (allowed is None or allowed(name))
    ]
    return JSONResponse({"object": "list", "data": data})


async def get_model(request: Request) -> Response:
    if speaks_gemini(request):
        return await gemini.get_model(request)
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    name = request.path_params["model"]
    check_model(principal, name)
    route = gateway.registry.resolve(name)
    return JSONResponse(
        {"id": name, "object": "model", "created": 0, "owned_by": route.provider.name}
    )


async def metrics(request: Request) -> Response:
    """Prometheus exposition of the gateway's own registry."""
    gateway = gateway_of(request)
    return Response(generate_latest(gateway.metrics.registry), media_type=CONTENT_TYPE_LATEST)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
    Route("/v1/models", list_models, methods=["GET"]),
    Route("/v1/models/{model:path}", get_model, methods=["GET"]),
]
