"""The access step: a key scoped to some models gets 403 `model_not_allowed` for others."""

from __future__ import annotations

from relaygate.errors import PermissionDenied
from relaygate.pipeline.call import Answer, Call
from relaygate.pipeline.chain import Next


async def check_model_access(call: Call, next: Next) -> Answer:
    grant = call.principal.grant
    if grant is not None and not grant.allows_model(call.model):
        raise PermissionDenied(
            f"This API key may not use the model '{call.model}'.",
            param="model",
            code="model_not_allowed",
        )
    return await next(call)
