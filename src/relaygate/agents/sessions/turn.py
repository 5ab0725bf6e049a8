"""One turn of a session: the model call (or, when the session has gateway tools, the agent
loop) that answers the newest user message.

`run_turn` runs the agent loop (one step when the session has no gateway tools) with
model steps through the pipeline, reports what happens through `emit` (`chunk`,
`tool_call`, `tool_result`) and returns every message the turn produced (assistant
messages that ask for tools, tool results, the final answer) with the usage of the calls
that produced them. It never touches the store: the service commits what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from relaygate.agents.loop import (
    LoopDone,
    LoopResult,
    StopReason,
    ToolFinished,
    ToolStarted,
    agent_loop,
    pipeline_step,
)
from relaygate.agents.sessions.events import Emit, SessionEvent
from relaygate.agents.tools.toolbox import Toolbox
from relaygate.config import ToolLoopSettings
from relaygate.observability.tracing.current import span
from relaygate.pipeline.call import Origin
from relaygate.pipeline.chain import Pipeline
from relaygate.types import FinishReason, Message, ModelCall, TextDelta, ToolCall, Usage

_FINISH = {
    StopReason.ANSWERED: FinishReason.STOP,
    StopReason.CLIENT_TOOLS: FinishReason.TOOL_CALLS,
    StopReason.MAX_STEPS: FinishReason.LENGTH,
    StopReason.TIME_BUDGET: FinishReason.LENGTH,
    StopReason.MAX_COST: FinishReason.LENGTH,
}


@dataclass(slots=True)
class Produced:
    """A message the turn produced; `usage` is that of the model call that produced it."""

    message: Message
    usage: Usage | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class TurnOutput:
    messages: list[Produced]
    finish_reason: FinishReason
    usage: Usage = field(default_factory=Usage)  # the sum over the turn's model calls
    stop_reason: str | None = None  # the agent loop's, when it ran
    steps: int = 1


@dataclass(slots=True)
class TurnInputs:
    """What a turn runs with beyond the model call itself."""

    tenant: str
    session_id: str
    turn: int
    toolbox: Toolbox | None = None  # the session's gateway tools: the agent loop runs them
    loop: ToolLoopSettings = field(default_factory=ToolLoopSettings)
    chunks: int = 0  # chunk events sent so far (their index runs across the turn's steps)


async def run_turn(
    pipeline: Pipeline, origin: Origin, call: ModelCall, inputs: TurnInputs, emit: Emit,
    *, live: bool,
) -> TurnOutput:
    """Answer the newest message of `call`; `live` streams the model's text as it comes."""
    with span("relaygate.session.turn", {
        "gen_ai.operation.name": "invoke_agent", "gen_ai.conversation.id": inputs.session_id,
        "gen_ai.request.model": call.model, "relaygate.session.turn": inputs.turn,
        "relaygate.tenant": inputs.tenant,
    }) as handle:
        output = await _run_turn(pipeline, origin, call, inputs, emit, live=live)
        if handle is not None:
            handle.set_attribute("gen_ai.usage.input_tokens", output.usage.input_tokens)
            handle.set_attribute("gen_ai.usage.output_tokens", output.usage.output_tokens)
            handle.set_attribute("relaygate.agent.steps", output.steps)
        return output


async def _run_turn(
    pipeline: Pipeline, origin: Origin, call: ModelCall, inputs: TurnInputs, emit: Emit,
    *, live: bool,
) -> TurnOutput:
    step = pipeline_step(pipeline, origin, live=live)
    result: LoopResult | None = None
    async for item in agent_loop(
        call,
        inputs.toolbox if inputs.toolbox is not None and inputs.toolbox.names else None,
        step,
        max_steps=inputs.loop.max_steps,
        time_budget=inputs.loop.time_budget_seconds,
        cost=origin.cost,
    ):
        if isinstance(item, TextDelta):
            await _chunk(emit, inputs, item.text)
        elif isinstance(item, ToolStarted):
            await emit(SessionEvent.TOOL_CALL, _call_payload(item.call, inputs.turn, item.step))
        elif isinstance(item, ToolFinished):
            payload = {"turn": inputs.turn, "step": item.step, **item.outcome.as_event()}
            await emit(SessionEvent.TOOL_RESULT, payload)
        elif isinstance(item, LoopDone):
            result = item.result
    assert result is not None
    for tool_call in result.client_calls:  # the client's own tools: theirs to run
        payload = {**_call_payload(tool_call, inputs.turn, result.steps), "client": True}
        await emit(SessionEvent.TOOL_CALL, payload)
    messages = [
        Produced(
            item.message,
            item.usage,
            {"tool": item.outcome.as_event()} if item.outcome is not None else {},
        )
        for item in result.messages
    ]
    looped = inputs.toolbox is not None and bool(inputs.toolbox.names)
    return TurnOutput(
        messages,
        _FINISH[result.stop_reason],
        result.usage,
        result.stop_reason.value if looped else None,
        result.steps,
    )


async def _chunk(emit: Emit, inputs: TurnInputs, text: str) -> None:
    await emit(SessionEvent.CHUNK, {"turn": inputs.turn, "index": inputs.chunks, "text": text})
    inputs.chunks += 1


def _call_payload(tool_call: ToolCall, turn: int, step: int) -> dict[str, Any]:
    """A `tool_call` event's payload (the client's own calls add `client: true`)."""
    return {
        "turn": turn,
        "step": step,
        "call_id": tool_call.id,
        "name": tool_call.name,
        "arguments": tool_call.arguments,
    }
