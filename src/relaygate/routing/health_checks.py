"""Background health checks: a cheap call (one token) to each checked deployment at an
interval; a failure counts against its breaker, a success closes it."""

from __future__ import annotations

import asyncio

from relaygate.errors import GatewayError
from relaygate.observability.logging import get_logger
from relaygate.routing.deployments import Deployment
from relaygate.routing.groups import Router
from relaygate.types import Message, ModelCall, Role, TextPart

_log = get_logger("relaygate.routing")


async def run_health_checks(router: Router) -> None:
    settings = router.settings.health_checks
    checked = [
        deployment
        for group in router.groups.values()
        if settings.models is None or group.name in settings.models
        for deployment in group.deployments
    ]
    while True:
        await asyncio.gather(*(check(deployment, settings.timeout_seconds)
                               for deployment in checked))
        await asyncio.sleep(settings.interval_seconds)


async def check(deployment: Deployment, timeout_seconds: float) -> bool:
    """One probe of `deployment`; True when it answered."""
    route = deployment.route
    call = ModelCall(model=route.upstream_model, max_tokens=1,
                     messages=[Message(Role.USER, [TextPart("ping")])])
    try:
        async with asyncio.timeout(timeout_seconds):
            await route.provider.send(call, route.upstream_model)
    except (GatewayError, TimeoutError) as exc:
        deployment.breaker.failed()
        _log.info("health check failed", deployment=deployment.id,
                  error=str(exc) or type(exc).__name__)
        return False
    deployment.breaker.succeeded()
    return True
