"""One turn of a session: the model call (or, when the session has gateway tools, the agent
loop) that answers the newest user message.

`run_turn` is the single call site: it reports what happens through `emit` (`chunk`,
`tool_call`, `tool_result`) and returns every message the turn produced (assistant
messages that ask for tools, tool results, the final answer) with the usage of the calls
that produced them. It never touches the store: the service commits what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from relaygate.agents.loop import StopReason, run_agent_loop
from relaygate.agents.sessions.events import Emit, SessionEvent
from relaygate.agents.tools.toolbox import Toolbox
from relaygate.config import ToolLoopSettings
from relaygate.errors import UpstreamError
from relaygate.pipeline.model_call import complete, stream
from relaygate.routing.registry import ModelRegistry
from relaygate.tokens.tokenizer import count_message, count_prompt
from relaygate.types import (
    ErrorEvent,
    FinishReason,
    Message,
    ModelCall,
    ReasoningDelta,
    Role,
    TextDelta,
    TextPart,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    Usage,
    UsageEvent,
    UsageSource,
)

_FINISH = {
    StopReason.ANSWERED: FinishReason.STOP,
    StopReason.CLIENT_TOOLS: FinishReason.TOOL_CALLS,
    StopReason.MAX_STEPS: FinishReason.LENGTH,
    StopReason.TIME_BUDGET: FinishReason.LENGTH,
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
    registry: ModelRegistry, call: ModelCall, inputs: TurnInputs, emit: Emit, *, live: bool
) -> TurnOutput:
    """Answer the newest message of `call`; `live` streams the model's text as it comes."""
    if inputs.toolbox is None or not inputs.toolbox.names:
        produced = await model_step(registry, call, inputs, emit, live=live)
        for tool_call in produced.message.tool_calls:  # the client's own tools: theirs to run
            await emit(SessionEvent.TOOL_CALL, _call_payload(tool_call, inputs.turn, 1))
        reason = FinishReason.TOOL_CALLS if produced.message.tool_calls else FinishReason.STOP
        return TurnOutput([produced], reason, produced.usage or Usage())

    async def step(step_call: ModelCall) -> tuple[Message, Usage | None]:
        produced = await model_step(registry, step_call, inputs, emit, live=live)
        return produced.message, produced.usage

    async def loop_emit(kind: str, payload: dict[str, Any]) -> None:
        await emit(SessionEvent(kind), {"turn": inputs.turn, **payload})

    result = await run_agent_loop(
        call,
        inputs.toolbox,
        model_step=step,
        emit=loop_emit,
        max_steps=inputs.loop.max_steps,
        time_budget=inputs.loop.time_budget_seconds,
    )
    for tool_call in result.client_calls:
        await emit(SessionEvent.TOOL_CALL, _call_payload(tool_call, inputs.turn, result.steps))
    messages = [
        Produced(
            item.message,
            item.usage,
            {"tool": item.outcome.as_event()} if item.outcome is not None else {},
        )
        for item in result.messages
    ]
    return TurnOutput(
        messages, _FINISH[result.stop_reason], result.usage, result.stop_reason.value, result.steps
    )


async def model_step(
    registry: ModelRegistry, call: ModelCall, inputs: TurnInputs, emit: Emit, *, live: bool
) -> Produced:
    """One routed model call; emits its text as `chunk` events and returns the reply."""
    if not live:
        _, result = await complete(registry, call)
        if result.message.text:
            await _chunk(emit, inputs, result.message.text)
        return Produced(result.message, _with_estimate(result.usage, call, result.message))
    texts: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, ToolCall] = {}
    usage: Usage | None = None
    async for event in stream(registry, call):
        if isinstance(event, TextDelta):
            await _chunk(emit, inputs, event.text)
            texts.append(event.text)
        elif isinstance(event, ReasoningDelta):
            reasoning.append(event.text)
        elif isinstance(event, ToolCallStart):
            calls[event.index] = ToolCall(event.id, event.name, "")
        elif isinstance(event, ToolCallDelta) and event.index in calls:
            calls[event.index].arguments += event.arguments
        elif isinstance(event, UsageEvent):
            usage = event.usage
        elif isinstance(event, ErrorEvent):
            raise UpstreamError(event.message, status=event.status, code=event.type)
    text = "".join(texts)
    message = Message(
        Role.ASSISTANT,
        [TextPart(text)] if text else [],
        tool_calls=[calls[index] for index in sorted(calls)],
        reasoning="".join(reasoning) or None,
    )
    return Produced(message, _with_estimate(usage, call, message))


async def _chunk(emit: Emit, inputs: TurnInputs, text: str) -> None:
    await emit(SessionEvent.CHUNK, {"turn": inputs.turn, "index": inputs.chunks, "text": text})
    inputs.chunks += 1


def _call_payload(tool_call: ToolCall, turn: int, step: int) -> dict[str, Any]:
    """The same shape as the agent loop's `tool_call` events, for a call the client runs."""
    return {
        "turn": turn,
        "step": step,
        "call_id": tool_call.id,
        "name": tool_call.name,
        "arguments": tool_call.arguments,
        "client": True,
    }


def _with_estimate(usage: Usage | None, call: ModelCall, reply: Message) -> Usage:
    """The upstream's usage when it reported one, else the tokenizer's count."""
    if usage is not None and (usage.input_tokens or usage.output_tokens):
        return usage
    return Usage(
        input_tokens=count_prompt(call.messages, call.tools, call.model),
        output_tokens=count_message(reply, call.model),
        source=UsageSource.ESTIMATED,
    )
