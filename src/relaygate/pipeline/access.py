"""The access step: a key scoped to some models gets 403 `model_not_allowed` for others."""

from __future__ import annotations

from relaygate.errors import PermissionDenied
from relaygate.pipeline.auth import Principal
from relaygate.pipeline.call import Answer, Call
from relaygate.pipeline.chain import Next


async def check_model_access(call: Call, next: Next) -> Answer:
    check_model(call.principal, call.model)
    return await next(call)


def check_model(principal: Principal, model: str) -> None:
    """Raises 403 `model_not_allowed` when the principal's grant leaves `model` out."""
    grant = principal.grant
    if grant is not None and not grant.allows_model(model):
        raise PermissionDenied(
            f"This API key may not use the model '{model}'.",
            param="model",
            code="model_not_allowed",
        )
