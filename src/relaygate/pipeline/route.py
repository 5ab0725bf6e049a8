"""The route step: the call's model name → its route plan, resolved once per call."""

from __future__ import annotations

from relaygate.pipeline.call import Answer, Call
from relaygate.pipeline.chain import Next
from relaygate.routing.registry import ModelRegistry


class RouteStep:
    """Sets `call.plan` (unless the caller pinned one); raises ModelNotFound."""

    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry

    async def __call__(self, call: Call, next: Next) -> Answer:
        if call.plan is None:
            call.plan = self._registry.plan(call.model)
        return await next(call)
