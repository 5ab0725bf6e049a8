"""Background health checks: a cheap call (one token) to each checked deployment at an
interval, through the dispatch like every upstream call (its outcome goes to the sinks,
as tenant `relaygate-health`); a failure counts against the deployment's breaker, a
success closes it."""

from __future__ import annotations

import asyncio
import uuid

from relaygate.errors import GatewayError
from relaygate.observability.logging import get_logger
from relaygate.pipeline.attempts import SendAttempt
from relaygate.pipeline.auth import Principal
from relaygate.pipeline.call import Call, Endpoint
from relaygate.pipeline.deadlines import Deadlines
from relaygate.routing.deployments import Deployment
from relaygate.routing.groups import Router
from relaygate.types import Message, ModelCall, Role, TextPart

_log = get_logger("relaygate.routing")
HEALTH_PRINCIPAL = Principal(tenant="relaygate-health")


async def run_health_checks(router: Router, send: SendAttempt) -> None:
    settings = router.settings.health_checks
    checked = [
        deployment
        for group in router.groups.values()
        if settings.models is None or group.name in settings.models
        for deployment in group.deployments
    ]
    while True:
        await asyncio.gather(*(check(deployment, send, settings.timeout_seconds)
                               for deployment in checked))
        await asyncio.sleep(settings.interval_seconds)


async def check(deployment: Deployment, send: SendAttempt, timeout_seconds: float) -> bool:
    """One probe of `deployment`; True when it answered."""
    route = deployment.route
    model_call = ModelCall(model=route.model, max_tokens=1,
                           messages=[Message(Role.USER, [TextPart("ping")])])
    call = Call(request_id=f"health_{uuid.uuid4().hex}", principal=HEALTH_PRINCIPAL,
                endpoint=Endpoint.HEALTH_CHECK, model=route.model, stream=False,
                model_call=model_call)
    deployment.started()
    outcomes = deployment.outcomes
    try:
        await send(call, route, 1, deployment.observe, Deadlines(first_byte=timeout_seconds))
    except GatewayError as exc:
        if deployment.outcomes == outcomes:
            deployment.abandoned()
        _log.info("health check failed", deployment=deployment.id, error=exc.message)
        return False
    return True
