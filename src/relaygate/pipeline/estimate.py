"""A call's worst case before it is sent: its input tokens (counted: exact for OpenAI
models, the documented estimate otherwise) and the most output it may produce (its
`max_tokens`, else the model's `max_output_tokens`, else DEFAULT_MAX_OUTPUT_TOKENS).

Budgets and token rate limits reserve this much, then settle with the real usage."""

from __future__ import annotations

from dataclasses import dataclass

from relaygate.pipeline.call import Call
from relaygate.tokens.estimate import estimate_prompt

DEFAULT_MAX_OUTPUT_TOKENS = 4096  # reserved when neither the call nor the model sets a limit


@dataclass(frozen=True, slots=True)
class WorstCase:
    input_tokens: int
    output_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def worst_case(call: Call) -> WorstCase:
    """Counted once per call (limits and budgets both ask); decodes the call's body on
    first use (a call that needs this is still relayed)."""
    if call.worst is not None:
        return call.worst
    if call.task is not None:  # embeddings, images: the task counts its own
        route = call.plan.first if call.plan is not None else None
        model = route.upstream_model if route is not None else call.model
        call.worst = WorstCase(call.task.input_tokens(model), call.task.output_tokens)
        return call.worst
    model_call = call.canonical()
    route = call.plan.first if call.plan is not None else None
    model = route.upstream_model if route is not None else call.model
    input_tokens = estimate_prompt(model_call.messages, model_call.tools, model)
    output_tokens = (
        model_call.max_tokens
        or (route.max_output_tokens if route is not None else None)
        or DEFAULT_MAX_OUTPUT_TOKENS
    )
    call.worst = WorstCase(input_tokens, output_tokens)
    return call.worst
