"""`cut_streams: true`: a stream that crosses a hard budget mid-way is ended there.

The budget step reserved the call's worst case; a stream can still cross when it outgrows
that (no `max_tokens`, or an upstream that ignores it). Its output is counted as it goes
(text, reasoning and tool-argument deltas, with the model's tokenizer or estimate), and the
moment input + output so far pass what the budget had left before the call, the stream
ends with a `budget_exceeded` error — the front's own error event and terminator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from relaygate.budgets.counters import Amount, to_nano
from relaygate.errors import RateLimited
from relaygate.routing.registry import Route, cost_of
from relaygate.tokens.estimate import estimate_text
from relaygate.types import ReasoningDelta, StreamEvent, TextDelta, ToolCallDelta, Usage


async def cut_at_budget(
    events: AsyncIterator[StreamEvent],
    headroom: Sequence[tuple[float | None, int | None]],
    route: Route,
    input_tokens: int,
) -> AsyncIterator[StreamEvent]:
    """`events`, ended with a 429 `budget_exceeded` once the call's usage so far passes one
    of the `headroom`s (dollars, tokens left before the call; None: not capped)."""
    output_tokens = 0
    try:
        async for event in events:
            text = _text_of(event)
            if text:
                output_tokens += estimate_text(text, route.upstream_model)
                used = _amount(route, input_tokens, output_tokens)
                for usd, tokens in headroom:
                    if (usd is not None and used.usd > usd) or (
                        tokens is not None and used.tokens > tokens
                    ):
                        raise RateLimited(
                            "The budget was exceeded during this stream, which is cut here "
                            "(cut_streams is on for this budget).",
                            code="budget_exceeded",
                        )
            yield event
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()


def _text_of(event: StreamEvent) -> str:
    if isinstance(event, TextDelta | ReasoningDelta):
        return event.text
    if isinstance(event, ToolCallDelta):
        return event.arguments
    return ""


def _amount(route: Route, input_tokens: int, output_tokens: int) -> Amount:
    cost = cost_of(Usage(input_tokens, output_tokens), route)
    return Amount(to_nano(cost or 0.0), input_tokens + output_tokens)
