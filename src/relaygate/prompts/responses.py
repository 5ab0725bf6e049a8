"""Responses' `prompt: {id, version?, variables?}`: the reference, and the model from the
template when the request names none (the route is resolved before the pipeline runs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relaygate.errors import InvalidRequest
from relaygate.pipeline.auth import Principal
from relaygate.prompts.ref import TEMPLATES_OFF, PromptRef, from_object, sticky_user

if TYPE_CHECKING:
    from relaygate.services import Gateway



async def responses_prompt(gateway: Gateway, body: dict[str, Any], principal: Principal,
                           request_id: str) -> PromptRef | None:
    """The body's `prompt` (taken out of it); fills `model` from the template if absent."""
    raw = body.pop("prompt", None)
    if raw is None:
        return None
    if gateway.prompts is None:
        raise InvalidRequest(TEMPLATES_OFF, param="prompt", code="prompts_off")
    ref = from_object(raw)
    ref.sticky = sticky_user(body)
    if not body.get("model"):
        sticky = ref.sticky or principal.key_id or request_id
        resolved = await gateway.prompts.resolve(ref, principal.tenant, sticky)
        if resolved.compiled.model is not None:
            body["model"] = resolved.compiled.model
    return ref
