"""The template step: a call that names a prompt template is filled from it, before
routing, limits, guards and the cache, so they all see the final prompt.

The template's messages come first, then the request's own (its instructions and input);
the template's model and parameters apply where the request gives none. The call then
goes translated (never relayed): its content changed."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, TypeVar

from relaygate.pipeline.call import Answer, Call
from relaygate.pipeline.chain import Next
from relaygate.prompts.ref import METADATA_KEY, PROMPT_HEADER

if TYPE_CHECKING:
    from relaygate.prompts.service import Prompts

T = TypeVar("T")
_HEADER = PROMPT_HEADER.encode("latin-1")


class PromptStep:
    def __init__(self, prompts: Prompts) -> None:
        self.prompts = prompts

    async def __call__(self, call: Call, next: Next) -> Answer:
        ref = call.prompt
        if ref is None:
            return await next(call)
        sticky = ref.sticky or call.session_id or call.principal.key_id or call.request_id
        resolved = await self.prompts.resolve(ref, call.principal.tenant, sticky)
        compiled = resolved.compiled
        messages = compiled.render(ref.variables, ref.strict)
        original = call.canonical()
        metadata = {k: v for k, v in original.metadata.items() if k != METADATA_KEY}
        model = original.model or call.model or compiled.model or ""
        call.model_call = dataclasses.replace(
            original,
            model=model,
            messages=[*messages, *original.messages],  # a new list: the caller's is kept
            tools=[*compiled.tools, *original.tools],
            temperature=_given(original.temperature, compiled.temperature),
            top_p=_given(original.top_p, compiled.top_p),
            max_tokens=_given(original.max_tokens, compiled.max_tokens),
            response_format=_given(original.response_format, compiled.response_format),
            metadata=metadata,
        )
        call.metadata.pop(METADATA_KEY, None)
        if not call.model:
            call.model = model
        call.needs_content = True
        call.prompt_use = (resolved.template.id, resolved.version)
        context = call.context
        if context is not None and not any(  # which version served, for the client (A/B)
                name == _HEADER for name, _ in context.headers or ()):  # once per request
            context.add_header(PROMPT_HEADER, f"{resolved.template.id}@v{resolved.version}")
        return await next(call)


def _given(value: T | None, default: T | None) -> T | None:
    return value if value is not None else default
