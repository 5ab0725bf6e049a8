"""A call's worst case before it is sent: its input tokens (counted: exact for OpenAI
models, the documented estimate otherwise) and the most output it may produce (its
`max_tokens`, else the model's `max_output_tokens`, else DEFAULT_MAX_OUTPUT_TOKENS).

Budgets and token rate limits reserve this much, then settle with the real usage."""

from __future__ import annotations

from dataclasses import dataclass

from relaygate.pipeline.call import Call
from relaygate.routing.registry import Route
from relaygate.tokens.estimate import estimate_prompt
from relaygate.types import Prompt

DEFAULT_MAX_OUTPUT_TOKENS = 4096  # reserved when neither the call nor the model sets a limit


@dataclass(frozen=True, slots=True)
class WorstCase:
    input_tokens: int
    output_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def worst_case(call: Call) -> WorstCase:
    """Counted once per call (limits and budgets both ask). A call its route relays is
    counted from the prompt its front reads from the body; any other decodes the body
    (a call that needs this is still relayed)."""
    if call.worst is not None:
        return call.worst
    route = call.plan.first if call.plan is not None else None
    model = route.upstream_model if route is not None else call.model
    if call.task is not None:  # embeddings, images: the task counts its own
        call.worst = WorstCase(call.task.input_tokens(model), call.task.output_tokens)
        return call.worst
    prompt = _relayed_prompt(call, route)
    if prompt is not None:
        messages, tools, max_tokens = prompt.messages, prompt.tools, prompt.max_tokens
    else:
        model_call = call.canonical()
        messages, tools, max_tokens = model_call.messages, model_call.tools, model_call.max_tokens
    input_tokens = estimate_prompt(messages, tools, model)
    output_tokens = (
        max_tokens
        or (route.max_output_tokens if route is not None else None)
        or DEFAULT_MAX_OUTPUT_TOKENS
    )
    call.worst = WorstCase(input_tokens, output_tokens)
    return call.worst


def _relayed_prompt(call: Call, route: Route | None) -> Prompt | None:
    """The prompt read from the body, for a call its first route would relay (a translated
    call decodes its body anyway); checks the body as decoding it would."""
    if (call.reader is None or call.model_call is not None or call.body is None
            or call.needs_content or route is None
            or getattr(route.provider, "relay_format", None) is not call.front):
        return None
    prompt = call.reader(call.body)
    call.validated = True
    return prompt
