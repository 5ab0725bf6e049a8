"""`create_app(settings)`: the routes of every front, the middleware list, the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from relaygate.config import Settings, config_warnings
from relaygate.errors import GatewayError
from relaygate.fronts import anthropic as anthropic_front
from relaygate.fronts import (
    embeddings,
    health,
    images,
    moderations,
    openai_chat,
    openapi,
    playground,
    usage_api,
)
from relaygate.fronts import gemini as gemini_front
from relaygate.fronts.admin import page as admin_page
from relaygate.fronts.admin import usage as admin_usage
from relaygate.fronts.admin.routes import admin_routes
from relaygate.fronts.agent_routes import agent_routes
from relaygate.fronts.errors import handle_gateway_error, handle_http_exception, handle_unexpected
from relaygate.observability.logging import get_logger
from relaygate.observability.payloads import PayloadLog
from relaygate.observability.request_log import RequestLogMiddleware
from relaygate.pipeline.access import check_model_access
from relaygate.pipeline.chain import Step
from relaygate.pipeline.route import RouteStep
from relaygate.prompts.step import PromptStep
from relaygate.services import Gateway, start_gateway

_log = get_logger("relaygate")


def _routes() -> list[BaseRoute]:
    return [
        *openai_chat.routes,  # first: the hot path matches on its first try
        *health.routes,
        *anthropic_front.routes,
        *gemini_front.routes,
        *embeddings.routes,
        *images.routes,
        *agent_routes(),  # their modules load on first use
        *admin_routes(),  # likewise
        *admin_page.routes,  # the admin page: a static file
        *usage_api.routes,
        *moderations.routes,
        *admin_usage.routes,
        *playground.routes,
        *openapi.routes,  # the document of all of them, built on first request
    ]


def model_call_steps(gateway: Gateway) -> list[Step]:
    """The steps every model call passes, in the order they run; the dispatch (relay or
    translate, then the outcome event to the sinks) comes after the last. A new step —
    limits, budget, template, guards, cache — goes in its place in this list."""
    steps: list[Step] = []
    if gateway.hooks.before_request:
        steps.append(gateway.hooks.run_before_request)  # read or change the Call, or refuse
    if gateway.access.scopes_models:
        steps.append(check_model_access)  # a key's `models:` (403 model_not_allowed)
    if gateway.prompts is not None:
        steps.append(PromptStep(gateway.prompts))  # fill a call from its prompt template
    steps.append(RouteStep(gateway.registry))  # the route plan, resolved once: prices, limits
    if gateway.limits is not None:
        steps.append(gateway.limits)  # rpm, tpm, tokens per day, max_concurrent (429)
    if gateway.budgets is not None:
        steps.append(gateway.budgets)  # reserve the worst case (429), settle on the outcome
    # before the guard step, reading the call once the rest answered: the input as the input
    # guards left it, the answer as the output guards left it (what the client received)
    logs = gateway.settings.telemetry.logs
    if logs.payloads:
        steps.append(PayloadLog(gateway.log_export, logs.max_payload_chars))
    if gateway.tracing is not None and gateway.tracing.capture_content:
        steps.append(gateway.tracing.completion_capture())  # the completion on the span
    if gateway.guardrails is not None:
        steps.append(gateway.guardrails)  # input guards; output guards on the answer (400)
    if gateway.cache is not None:
        steps.append(gateway.cache)  # answer a hit without the upstream; keep a miss's answer
    return steps


def _tracing_middleware(settings: Settings) -> list[Middleware]:
    """The server span of each request, first in the list, when tracing is on; nothing (and
    no OpenTelemetry import) when it is off."""
    if not settings.telemetry.traces.resolved().enabled:
        return []
    from relaygate.observability.tracing.middleware import TracingMiddleware  # loaded when on

    return [Middleware(TracingMiddleware)]


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        gateway = await start_gateway(settings, model_call_steps)
        app.state.gateway = gateway
        if gateway.access.is_open:
            _log.warning(
                "NO API KEYS CONFIGURED: the gateway is OPEN; every caller is tenant 'default'. "
                "Add `keys:` to the config file, or set an admin key, before exposing it."
            )
        for warning in config_warnings(settings):
            _log.warning(warning)
        _log.info(
            "started",
            models=gateway.registry.model_names(),
            providers=sorted(gateway.registry.providers),
        )
        try:
            yield
        finally:
            await gateway.close()

    return Starlette(
        routes=_routes(),
        middleware=[*_tracing_middleware(settings), Middleware(RequestLogMiddleware)],
        exception_handlers={
            GatewayError: handle_gateway_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        lifespan=lifespan,
    )
