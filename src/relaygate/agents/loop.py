"""The agent loop: model call → tool calls (run concurrently) → results appended → again,
until the model answers, asks for a tool the gateway does not host, or a limit is hit
(steps, time, or the run's cost: no step starts once `cost` has reached a limit).

    async for item in agent_loop(call, toolbox, model_step):
        ...  # canonical stream events, ToolStarted, ToolFinished, StepEnded; LoopDone last

`call` holds the conversation so far (and any client function tools); the toolbox's
tools are offered beside them. The loop yields what happens as canonical events, and
its callers (sessions, realtime, Responses with hosted tools) turn them into their own
wire events: each model step's stream events as they come (`model_step` streams them,
from the pipeline), `StepEnded` with the step's message and usage, `ToolStarted` and
`ToolFinished` around each hosted call, and `LoopDone` with the result.

Calls to hosted tools are checked, run and answered here; calls to the client's own
function tools end the loop so the client can run them; a call to any other name gets a
tool error (unknown, or denied by policy) so the model can recover. A bad argument, a
denied or failing tool, a timeout: each becomes a tool error the model reads, never an
HTTP error.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from enum import StrEnum

from relaygate.agents.tools.outcome import ToolOutcome
from relaygate.agents.tools.toolbox import Toolbox
from relaygate.observability.tracing.current import SpanHandle, span
from relaygate.pipeline.call import Origin
from relaygate.pipeline.chain import Pipeline
from relaygate.pipeline.run_cost import RunCost
from relaygate.translate.events import MessageAssembler, result_to_events
from relaygate.types import (
    Message,
    ModelCall,
    Role,
    StreamEvent,
    TextPart,
    ToolCall,
    ToolSpec,
    Usage,
)

DEFAULT_MAX_STEPS = 8
DEFAULT_TIME_BUDGET = 120.0


class StopReason(StrEnum):
    ANSWERED = "answered"  # the model replied without asking for a tool
    CLIENT_TOOLS = "client_tool_calls"  # it asked for tools the client must run
    MAX_STEPS = "max_steps"
    TIME_BUDGET = "time_budget"
    MAX_COST = "max_cost"  # the run (or one above it) reached its cost limit


ModelStep = Callable[[ModelCall], AsyncIterator[StreamEvent]]
"""One model call, as canonical events (the pipeline's stream, or a whole answer's)."""


@dataclass(slots=True)
class LoopMessage:
    """A message the loop produced; `usage` is set on assistant messages (their model call)."""

    message: Message
    usage: Usage | None = None
    outcome: ToolOutcome | None = None  # set on tool results


@dataclass(slots=True)
class LoopResult:
    messages: list[LoopMessage]
    usage: Usage
    stop_reason: StopReason
    steps: int = 0  # model calls made
    tool_calls: int = 0  # hosted tool calls run

    @property
    def final(self) -> Message | None:
        """The model's last assistant message."""
        return next(
            (
                item.message
                for item in reversed(self.messages)
                if item.message.role is Role.ASSISTANT
            ),
            None,
        )

    @property
    def client_calls(self) -> list[ToolCall]:
        """Tool calls left for the client to run (when stop_reason is CLIENT_TOOLS)."""
        if self.stop_reason is not StopReason.CLIENT_TOOLS or self.final is None:
            return []
        answered = {
            item.message.tool_call_id for item in self.messages if item.message.role is Role.TOOL
        }
        return [call for call in self.final.tool_calls if call.id not in answered]


@dataclass(slots=True)
class _Limits:
    max_steps: int
    deadline: float
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


def offered_tools(call: ModelCall, toolbox: Toolbox) -> list[ToolSpec]:
    """The client's tools plus the hosted ones (a hosted tool wins a name clash)."""
    hosted = toolbox.specs()
    names = {spec.name for spec in hosted}
    return [spec for spec in call.tools if spec.name not in names] + hosted


def tool_message(outcome: ToolOutcome) -> Message:
    return Message(
        Role.TOOL, [TextPart(outcome.content)], tool_call_id=outcome.call_id, name=outcome.name
    )


@dataclass(slots=True)
class StepEnded:
    """A model call of the loop ended: the assistant's message and the call's usage."""

    step: int
    message: Message
    usage: Usage | None


@dataclass(slots=True)
class ToolStarted:
    step: int
    call: ToolCall


@dataclass(slots=True)
class ToolFinished:
    step: int
    outcome: ToolOutcome


@dataclass(slots=True)
class LoopDone:
    result: LoopResult


LoopItem = StreamEvent | StepEnded | ToolStarted | ToolFinished | LoopDone


def pipeline_step(pipeline: Pipeline, origin: Origin, *, live: bool) -> ModelStep:
    """The model step through the pipeline: streamed (`live`) or one whole call."""

    async def step(call: ModelCall) -> AsyncIterator[StreamEvent]:
        model_call = dataclasses.replace(call, stream=live, include_usage=live)
        if not live:
            _, result = await pipeline.complete(origin.call(model_call))
            for event in result_to_events(result):
                yield event
            return
        _, events = await pipeline.stream(origin.call(model_call))
        async with aclosing(events):  # type: ignore[type-var]
            async for event in events:
                yield event

    return step


async def _timed(items: AsyncIterator[StreamEvent], limits: _Limits) -> AsyncIterator[StreamEvent]:
    """The step's events, ending in TimeoutError when the time budget runs out."""
    try:
        while True:
            try:
                event = await asyncio.wait_for(anext(items), max(limits.remaining(), 0.001))
            except StopAsyncIteration:
                return
            yield event
    finally:
        with contextlib.suppress(Exception):
            await items.aclose()  # type: ignore[attr-defined]


def _describe_step(handle: SpanHandle, assembler: MessageAssembler) -> None:
    """A model step's span: its finish reason, tool calls and usage."""
    if assembler.finish_reason is not None:
        handle.set_attribute("gen_ai.response.finish_reasons", [str(assembler.finish_reason)])
    handle.set_attribute("relaygate.agent.tool_calls", len(assembler.message().tool_calls))
    if assembler.usage is not None:
        handle.set_attribute("gen_ai.usage.input_tokens", assembler.usage.input_tokens)
        handle.set_attribute("gen_ai.usage.output_tokens", assembler.usage.output_tokens)


async def _run_one(toolbox: Toolbox, call: ToolCall, limits: _Limits) -> ToolOutcome:
    try:
        return await asyncio.wait_for(toolbox.run(call), max(limits.remaining(), 0.001))
    except TimeoutError:
        return ToolOutcome(
            call.id,
            call.name,
            {"error": "The turn's time budget ran out before this tool finished."},
            is_error=True,
            error_code="time_budget",
        )


async def agent_loop(
    call: ModelCall,
    toolbox: Toolbox | None,
    model_step: ModelStep,
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    time_budget: float = DEFAULT_TIME_BUDGET,
    cost: RunCost | None = None,
) -> AsyncIterator[LoopItem]:
    """Run the loop, yielding what happens; the last item is `LoopDone` with the new
    messages (not those already in `call`) and the summed usage."""
    limits = _Limits(max(1, max_steps), time.monotonic() + time_budget)
    tools = offered_tools(call, toolbox) if toolbox is not None else call.tools
    client_names = {spec.name for spec in tools} - set(toolbox.names if toolbox else ())
    produced: list[LoopMessage] = []
    usage = Usage()
    steps = tool_calls = 0

    def done(reason: StopReason) -> LoopDone:
        return LoopDone(LoopResult(produced, usage, reason, steps, tool_calls))

    while steps < limits.max_steps:
        if limits.remaining() <= 0:
            yield done(StopReason.TIME_BUDGET)
            return
        if steps and cost is not None and cost.exhausted() is not None:
            yield done(StopReason.MAX_COST)
            return
        step_call = dataclasses.replace(
            call, messages=[*call.messages, *(item.message for item in produced)], tools=tools
        )
        assembler = MessageAssembler()
        try:
            with span("relaygate.agent.step", {"gen_ai.operation.name": "chat",
                                               "relaygate.agent.step": steps + 1}) as handle:
                async for event in _timed(model_step(step_call), limits):
                    assembler.feed(event)  # an ErrorEvent raises
                    yield event
                if handle is not None:
                    _describe_step(handle, assembler)
        except TimeoutError:
            yield done(StopReason.TIME_BUDGET)
            return
        steps += 1
        reply = assembler.message()
        if assembler.usage is not None:
            usage.add(assembler.usage)
        produced.append(LoopMessage(reply, assembler.usage))
        yield StepEnded(steps, reply, assembler.usage)
        if not reply.tool_calls:
            yield done(StopReason.ANSWERED)
            return
        # Calls to the client's own function tools are left to the client; any other
        # name (hosted, denied, made up) is answered here, with an error when need be.
        ours = [item for item in reply.tool_calls if item.name not in client_names]
        if toolbox is None:
            ours = []  # no gateway tools: every call is the client's
        if ours:
            assert toolbox is not None
            for item in ours:
                yield ToolStarted(steps, item)
            runs = {
                asyncio.ensure_future(_run_one(toolbox, item, limits)): item for item in ours
            }
            outcomes: dict[str, ToolOutcome] = {}
            try:
                for finished in asyncio.as_completed(runs):
                    outcome = await finished
                    outcomes[outcome.call_id] = outcome
                    yield ToolFinished(steps, outcome)
            finally:
                for task in runs:
                    task.cancel()
            tool_calls += len(ours)
            produced.extend(
                LoopMessage(tool_message(outcomes[item.id]), outcome=outcomes[item.id])
                for item in ours
            )
        if len(ours) < len(reply.tool_calls):
            yield done(StopReason.CLIENT_TOOLS)
            return
    yield done(StopReason.MAX_STEPS)


async def run_agent_loop(
    call: ModelCall,
    toolbox: Toolbox | None,
    model_step: ModelStep,
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    time_budget: float = DEFAULT_TIME_BUDGET,
) -> LoopResult:
    """The loop run to its end, for a caller that needs only the result."""
    async for item in agent_loop(
        call, toolbox, model_step, max_steps=max_steps, time_budget=time_budget
    ):
        if isinstance(item, LoopDone):
            return item.result
    raise AssertionError("the agent loop always ends with LoopDone")
