"""Run one canonical model call through routing and the provider: the step every
feature above the fronts (sessions, Responses, the agent loop) calls."""

from __future__ import annotations

from collections.abc import AsyncIterator

from relaygate.routing.registry import ModelRegistry, Route
from relaygate.types import ModelCall, ModelResult, StreamEvent


async def complete(registry: ModelRegistry, call: ModelCall) -> tuple[Route, ModelResult]:
    """Resolve `call.model` and get the whole answer."""
    route = registry.resolve(call.model)
    result = await route.provider.send(call, route.upstream_model)
    return route, result


async def stream(registry: ModelRegistry, call: ModelCall) -> AsyncIterator[StreamEvent]:
    """Resolve `call.model` and yield the answer's canonical events."""
    route = registry.resolve(call.model)
    async for event in route.provider.stream(call, route.upstream_model):
        yield event
