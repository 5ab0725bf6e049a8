"""Gateway tools as hosted tools of `/v1/responses`: `{"type": "relaygate:calculator"}`.

The gateway runs them in the agent loop; each call it ran becomes a `relaygate:tool_call`
output item (an Open Responses extension item: implementor-prefixed type, `id`,
`status`, plus `call_id`, `name`, `arguments`, and `output` or `error`); the model's text
becomes message items as usual, and calls to the client's own function tools are
returned untouched as `function_call` items for the client to run.

`hosted_events` runs the loop (its model steps through the pipeline) and turns what it
yields into what the response encoder consumes, step by step: canonical stream events for
text and client calls, `OutputItemEvent`s for the hosted calls, then the summed usage and
the finish reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from relaygate.agents.loop import (
    LoopDone,
    StepEnded,
    StopReason,
    ToolFinished,
    agent_loop,
    pipeline_step,
)
from relaygate.agents.tools.outcome import to_text
from relaygate.agents.tools.service import ToolService
from relaygate.agents.tools.toolbox import Toolbox, build_toolbox
from relaygate.errors import InvalidRequest
from relaygate.pipeline.auth import Principal
from relaygate.pipeline.call import Origin
from relaygate.services import Gateway
from relaygate.translate.responses.ids import new_id
from relaygate.translate.responses.items import Item
from relaygate.translate.responses.stream import EncoderInput, OutputItemEvent, StoppedEarly
from relaygate.types import (
    Finish,
    FinishReason,
    Message,
    ModelCall,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageEvent,
)

HOSTED_PREFIX = "relaygate:"
HOSTED_ITEM_TYPE = "relaygate:tool_call"

_FINISH = {
    StopReason.ANSWERED: FinishReason.STOP,
    StopReason.CLIENT_TOOLS: FinishReason.TOOL_CALLS,
    StopReason.MAX_STEPS: FinishReason.STOP,
    StopReason.TIME_BUDGET: FinishReason.STOP,
}


def split_hosted(tools: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The gateway tool names asked for (`relaygate:<name>`), and every other hosted tool."""
    names: list[str] = []
    others: list[dict[str, Any]] = []
    for tool in tools:
        kind = str(tool.get("type", ""))
        if kind.startswith(HOSTED_PREFIX) and len(kind) > len(HOSTED_PREFIX):
            names.append(kind[len(HOSTED_PREFIX) :])
        else:
            others.append(tool)
    return names, others


def hosted_toolbox(
    tools_service: ToolService, principal: Principal, tools: list[dict[str, Any]]
) -> Toolbox | None:
    """The toolbox for the request's `relaygate:` tools (403/404 for a tool it may not use);
    other hosted tool types are refused (400 unsupported_tool)."""
    names, others = split_hosted(tools)
    if others:
        kinds = sorted({str(tool.get("type")) for tool in others})
        raise InvalidRequest(
            f"Tool type(s) {kinds} are not available on this gateway; gateway tools are "
            f"asked for as {{'type': 'relaygate:<name>'}}.",
            param="tools",
            code="unsupported_tool",
        )
    if not names:
        return None
    return build_toolbox(tools_service, principal, names)


def tool_call_item(call_id: str, payload: dict[str, Any], arguments: str) -> Item:
    """The output item for one hosted call the gateway ran (a `tool_result` payload)."""
    failed = bool(payload.get("is_error"))
    output = payload.get("output")
    return {
        "type": HOSTED_ITEM_TYPE,
        "id": new_id("rgtc"),
        "status": "failed" if failed else "completed",
        "call_id": call_id,
        "name": payload["name"],
        "arguments": arguments,
        "output": None if failed else to_text(output),
        "error": to_text(output) if failed else None,
    }


def _message_events(
    message: Message, client_names: set[str], first_index: int
) -> list[EncoderInput]:
    """The model's reasoning, text and calls to the client's own tools, as canonical events
    (the gateway answers every other call, so those become `relaygate:tool_call` items)."""
    events: list[EncoderInput] = []
    if message.reasoning:
        events.append(ReasoningDelta(message.reasoning, message.reasoning_signature))
    if message.text:
        events.append(TextDelta(message.text))
    index = first_index
    for call in message.tool_calls:
        if call.name not in client_names:
            continue
        events += [
            ToolCallStart(index, call.id, call.name),
            ToolCallDelta(index, call.arguments),
            ToolCallEnd(index),
        ]
        index += 1
    return events


async def hosted_events(
    gateway: Gateway, origin: Origin, toolbox: Toolbox, call: ModelCall
) -> AsyncIterator[EncoderInput]:
    """Run the agent loop for one response, yielding encoder input as each step ends."""
    arguments: dict[str, str] = {}
    client_names = {spec.name for spec in call.tools} - set(toolbox.names)
    counter = 0
    loop = gateway.settings.tools.loop
    whole = dataclasses.replace(call, stream=False, include_usage=False)
    step = pipeline_step(gateway.pipeline, origin, live=False)
    items = agent_loop(
        whole, toolbox, step, max_steps=loop.max_steps, time_budget=loop.time_budget_seconds
    )
    async with aclosing(items):  # type: ignore[type-var]
        async for item in items:
            if isinstance(item, StepEnded):
                for event in _message_events(item.message, client_names, counter):
                    yield event
                counter += len(item.message.tool_calls)
                for tool_call in item.message.tool_calls:
                    arguments[tool_call.id] = tool_call.arguments
            elif isinstance(item, ToolFinished):
                call_id = item.outcome.call_id
                yield OutputItemEvent(
                    tool_call_item(call_id, item.outcome.as_event(), arguments[call_id])
                )
            elif isinstance(item, LoopDone):
                result = item.result
                yield UsageEvent(result.usage)
                if result.stop_reason in (StopReason.MAX_STEPS, StopReason.TIME_BUDGET):
                    yield StoppedEarly(result.stop_reason.value)
                yield Finish(_FINISH[result.stop_reason])
