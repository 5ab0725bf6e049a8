"""The agent loop: model call → tool calls (run concurrently) → results appended → again,
until the model answers, asks for a tool the gateway does not host, or a limit is hit.

    result = await run_agent_loop(call, toolbox, registry=gateway.registry, emit=emit)

`call` holds the conversation so far (and any client function tools); the toolbox's
tools are offered beside them. Calls to hosted tools are checked, run and answered here;
calls to the client's own function tools end the loop so the client can run them (the
Responses front returns them untouched); a call to any other name gets a tool error
(unknown, or denied by policy) so the model can recover. Every call the gateway answers
is reported through `emit("tool_call", …)` and `emit("tool_result", …)`. A bad argument,
a denied or failing tool, a timeout: each becomes a tool error the model reads, never an
HTTP error.

The model step is pluggable (`model_step`), so a caller that streams text (sessions)
uses its own; the default is one non-streaming routed call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from relaygate.agents.tools.outcome import ToolOutcome
from relaygate.agents.tools.toolbox import Toolbox
from relaygate.pipeline.model_call import complete
from relaygate.routing.registry import ModelRegistry
from relaygate.types import (
    Message,
    ModelCall,
    Role,
    TextPart,
    ToolCall,
    ToolSpec,
    Usage,
    UsageSource,
)

DEFAULT_MAX_STEPS = 8
DEFAULT_TIME_BUDGET = 120.0


class LoopEvent(StrEnum):
    TOOL_CALL = "tool_call"  # {step, call_id, name, arguments}
    TOOL_RESULT = (
        "tool_result"  # {step, call_id, name, output, is_error, duration_ms[, error_code]}
    )


class StopReason(StrEnum):
    ANSWERED = "answered"  # the model replied without asking for a tool
    CLIENT_TOOLS = "client_tool_calls"  # it asked for tools the client must run
    MAX_STEPS = "max_steps"
    TIME_BUDGET = "time_budget"


Emit = Callable[[str, dict[str, Any]], Awaitable[None]]
"""Receives `LoopEvent` names (plain strings) and their JSON payloads."""

ModelStep = Callable[[ModelCall], Awaitable[tuple[Message, Usage | None]]]
"""One model call: the assistant's message and the call's usage."""


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


def add_usage(total: Usage, more: Usage | None) -> None:
    if more is None:
        return
    total.input_tokens += more.input_tokens
    total.output_tokens += more.output_tokens
    total.cached_tokens += more.cached_tokens
    total.cache_creation_tokens += more.cache_creation_tokens
    total.reasoning_tokens += more.reasoning_tokens
    if more.source is UsageSource.ESTIMATED:
        total.source = UsageSource.ESTIMATED


def tool_message(outcome: ToolOutcome) -> Message:
    return Message(
        Role.TOOL, [TextPart(outcome.content)], tool_call_id=outcome.call_id, name=outcome.name
    )


def routed_step(registry: ModelRegistry) -> ModelStep:
    """The default model step: one non-streaming call through routing."""

    async def step(call: ModelCall) -> tuple[Message, Usage | None]:
        _, result = await complete(registry, call)
        return result.message, result.usage

    return step


async def _noop(kind: str, payload: dict[str, Any]) -> None:
    return None


async def _run_one(
    toolbox: Toolbox, call: ToolCall, step: int, limits: _Limits, emit: Emit, announce: bool
) -> ToolOutcome:
    if announce:
        await emit(
            LoopEvent.TOOL_CALL.value,
            {"step": step, "call_id": call.id, "name": call.name, "arguments": call.arguments},
        )
    try:
        outcome = await asyncio.wait_for(toolbox.run(call), max(limits.remaining(), 0.001))
    except TimeoutError:
        outcome = ToolOutcome(
            call.id,
            call.name,
            {"error": "The turn's time budget ran out before this tool finished."},
            is_error=True,
            error_code="time_budget",
        )
    await emit(LoopEvent.TOOL_RESULT.value, {"step": step, **outcome.as_event()})
    return outcome


async def run_agent_loop(
    call: ModelCall,
    toolbox: Toolbox,
    *,
    registry: ModelRegistry | None = None,
    model_step: ModelStep | None = None,
    emit: Emit | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    time_budget: float = DEFAULT_TIME_BUDGET,
    announce_calls: bool = True,
) -> LoopResult:
    """Run the loop; returns the new messages (not those already in `call`) and the summed usage.

    `announce_calls=False` when `model_step` already reports the calls it returns.
    """
    if model_step is None:
        if registry is None:
            raise ValueError("run_agent_loop needs a registry or a model_step")
        model_step = routed_step(registry)
    report = emit or _noop
    limits = _Limits(max(1, max_steps), time.monotonic() + time_budget)
    tools = offered_tools(call, toolbox)
    client_names = {spec.name for spec in tools} - set(toolbox.names)
    produced: list[LoopMessage] = []
    usage = Usage()
    steps = tool_calls = 0
    while steps < limits.max_steps:
        if limits.remaining() <= 0:
            return LoopResult(produced, usage, StopReason.TIME_BUDGET, steps, tool_calls)
        step_call = dataclasses.replace(
            call, messages=[*call.messages, *(item.message for item in produced)], tools=tools
        )
        try:
            reply, step_usage = await asyncio.wait_for(model_step(step_call), limits.remaining())
        except TimeoutError:
            return LoopResult(produced, usage, StopReason.TIME_BUDGET, steps, tool_calls)
        steps += 1
        add_usage(usage, step_usage)
        produced.append(LoopMessage(reply, step_usage))
        if not reply.tool_calls:
            return LoopResult(produced, usage, StopReason.ANSWERED, steps, tool_calls)
        # Calls to the client's own function tools are left to the client; any other
        # name (hosted, denied, made up) is answered here, with an error when need be.
        ours = [item for item in reply.tool_calls if item.name not in client_names]
        outcomes = await asyncio.gather(
            *(_run_one(toolbox, item, steps, limits, report, announce_calls) for item in ours)
        )
        tool_calls += len(outcomes)
        produced.extend(LoopMessage(tool_message(outcome), outcome=outcome) for outcome in outcomes)
        if len(ours) < len(reply.tool_calls):
            return LoopResult(produced, usage, StopReason.CLIENT_TOOLS, steps, tool_calls)
    return LoopResult(produced, usage, StopReason.MAX_STEPS, steps, tool_calls)
