"""The agent loop with the mock provider and with scripted models: tool calls, results,
multi-step runs, parallel calls, limits, and errors fed back to the model."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import orjson
import pytest

from relaygate.agents.loop import (
    LoopDone,
    LoopItem,
    LoopResult,
    ModelStep,
    StepEnded,
    StopReason,
    ToolFinished,
    ToolStarted,
    agent_loop,
    pipeline_step,
    run_agent_loop,
)
from relaygate.agents.tools.metrics import ToolOutcomeKind
from relaygate.agents.tools.toolbox import Toolbox, build_toolbox
from relaygate.config import ToolPolicyMode, ToolPolicySettings, ToolsSettings
from relaygate.pipeline.auth import Principal
from relaygate.pipeline.call import Endpoint, Origin
from relaygate.pipeline.chain import Pipeline
from relaygate.pipeline.dispatch import Dispatch
from relaygate.pipeline.outcome import Outcome, Sinks
from relaygate.pipeline.route import RouteStep
from relaygate.translate.events import result_to_events
from relaygate.types import (
    FinishReason,
    Message,
    ModelCall,
    ModelResult,
    Role,
    StreamEvent,
    TextDelta,
    TextPart,
    ToolCall,
    ToolSpec,
    Usage,
)
from tests.agents.tools.support import mock_models, tool_service

PRINCIPAL = Principal("acme")


def _user(text: str) -> ModelCall:
    return ModelCall(model="mock", messages=[Message(Role.USER, [TextPart(text)])])


async def _run(call: ModelCall, toolbox: Toolbox, step: ModelStep, **limits: Any
               ) -> tuple[list[LoopItem], LoopResult]:
    """Every item the loop yields, and its result (the last item)."""
    items = [item async for item in agent_loop(call, toolbox, step, **limits)]
    last = items[-1]
    assert isinstance(last, LoopDone)
    return items, last.result


def _mock_pipeline(outcomes: list[Outcome]) -> Pipeline:
    """The real pipeline (route step, dispatch) over the mock provider."""
    return Pipeline([RouteStep(mock_models())], Dispatch(Sinks([outcomes.append]), asyncio.Event()))


class Script:
    """A scripted model: each step returns the next planned message and records its input."""

    def __init__(self, replies: list[Message]) -> None:
        self._replies: Iterator[Message] = iter(replies)
        self.calls: list[ModelCall] = []

    async def __call__(self, call: ModelCall) -> AsyncIterator[StreamEvent]:
        self.calls.append(call)
        reply = next(self._replies)
        usage = Usage(input_tokens=10, output_tokens=2)
        for event in result_to_events(_result(reply, usage)):
            yield event


def _result(message: Message, usage: Usage) -> ModelResult:
    return ModelResult("r1", "scripted", message, FinishReason.STOP, usage, 0)


def _asks(*calls: tuple[str, dict[str, Any]]) -> Message:
    return Message(
        Role.ASSISTANT,
        tool_calls=[
            ToolCall(f"call_{index}_{name}", name, orjson.dumps(arguments).decode())
            for index, (name, arguments) in enumerate(calls)
        ],
    )


def _says(text: str) -> Message:
    return Message(Role.ASSISTANT, [TextPart(text)])


async def test_calculate_with_the_mock_model_through_the_pipeline() -> None:
    service = tool_service()
    toolbox = build_toolbox(service, PRINCIPAL, ["calculator"])
    outcomes: list[Outcome] = []
    origin = Origin(PRINCIPAL, "req_loop", Endpoint.AGENT_STEP)
    step = pipeline_step(_mock_pipeline(outcomes), origin, live=True)
    items, result = await _run(_user("Calculate 5 + 3"), toolbox, step)
    kinds = [type(item) for item in items if not isinstance(item, StreamEvent)]
    assert kinds == [StepEnded, ToolStarted, ToolFinished, StepEnded, LoopDone]
    started = next(item for item in items if isinstance(item, ToolStarted))
    finished = next(item for item in items if isinstance(item, ToolFinished))
    assert started.call.name == "calculator"
    assert orjson.loads(started.call.arguments) == {"a": 5, "b": 3, "operation": "add"}
    assert finished.outcome.output == {"result": 8} and finished.outcome.is_error is False
    texts = [item.text for item in items if isinstance(item, TextDelta)]
    assert "".join(texts) == "The result is 8."  # streamed as it came
    # one outcome per model call, each with the principal that started the loop
    assert [(o.endpoint, o.principal.tenant, o.provider, o.status) for o in outcomes] == [
        ("agent.step", "acme", "mock", 200),
        ("agent.step", "acme", "mock", 200),
    ]
    assert sum(o.usage.output_tokens for o in outcomes if o.usage) == result.usage.output_tokens
    assert result.stop_reason is StopReason.ANSWERED and result.steps == 2
    assert result.final is not None and result.final.text == "The result is 8."
    roles = [item.message.role for item in result.messages]
    assert roles == [Role.ASSISTANT, Role.TOOL, Role.ASSISTANT]
    assert result.messages[1].message.tool_call_id == result.messages[0].message.tool_calls[0].id
    assert result.usage.input_tokens == sum(
        item.usage.input_tokens for item in result.messages if item.usage is not None
    )
    assert result.usage.output_tokens > 0
    assert service.metrics.count("calculator", ToolOutcomeKind.OK) == 1


async def test_multi_step_feeds_each_result_to_the_next_call() -> None:
    script = Script(
        [
            _asks(("calculator", {"operation": "add", "a": 2, "b": 3})),
            _asks(("calculator", {"operation": "multiply", "a": 5, "b": 4})),
            _says("2 + 3 = 5, and 5 × 4 = 20."),
        ]
    )
    toolbox = build_toolbox(tool_service(), PRINCIPAL, ["calculator"])
    result = await run_agent_loop(_user("chain it"), toolbox, script)
    assert result.stop_reason is StopReason.ANSWERED and result.steps == 3
    assert result.tool_calls == 2
    second_input = script.calls[1].messages
    assert second_input[-1].role is Role.TOOL and second_input[-1].text == '{"result":5}'
    assert script.calls[2].messages[-1].text == '{"result":20}'
    assert [spec.name for spec in script.calls[0].tools] == ["calculator"]
    assert result.usage.input_tokens == 30 and result.usage.output_tokens == 6


async def test_parallel_calls_run_concurrently() -> None:
    settings = ToolsSettings(custom=["tests.agents.tools.plugins.custom:slow"])
    toolbox = build_toolbox(tool_service(settings), PRINCIPAL, ["slow", "calculator"])
    script = Script(
        [
            _asks(
                ("slow", {"seconds": 0.15}),
                ("slow", {"seconds": 0.15}),
                ("slow", {"seconds": 0.15}),
                ("calculator", {"operation": "sqrt", "a": 16}),
            ),
            _says("done"),
        ]
    )
    started = time.perf_counter()
    result = await run_agent_loop(_user("go"), toolbox, script)
    assert time.perf_counter() - started < 0.4  # not 0.45 s in sequence
    outputs = [item.message.text for item in result.messages if item.message.role is Role.TOOL]
    assert outputs == ["done", "done", "done", '{"result":4}']  # in the order of the calls


async def test_errors_go_back_to_the_model_as_tool_errors() -> None:
    settings = ToolsSettings(
        custom=[
            "tests.agents.tools.plugins.custom:slow",
            "tests.agents.tools.plugins.custom:broken",
        ]
    )
    service = tool_service(settings)
    toolbox = build_toolbox(service, PRINCIPAL, ["calculator", "slow", "broken"])
    script = Script(
        [
            _asks(
                ("calculator", {"operation": "add", "a": "five"}),  # schema error
                ("calculator", {"operation": "divide", "a": 1, "b": 0}),  # tool failure
                ("slow", {"seconds": 1}),  # its timeout is 0.2 s
                ("python", {"code": "print(1)"}),  # dangerous, not allowed
                ("made_up", {}),  # unknown
                ("broken", {"value": 3}),  # raises RuntimeError
            ),
            _says("sorry"),
        ]
    )
    items, result = await _run(_user("try"), toolbox, script)
    assert result.stop_reason is StopReason.ANSWERED
    results = sorted(  # events arrive as tools finish; sort back into call order
        (item.outcome.as_event() for item in items if isinstance(item, ToolFinished)),
        key=lambda payload: payload["call_id"],
    )
    assert all(item["is_error"] for item in results)
    codes = [item["error_code"] for item in results]
    assert codes == [
        "invalid_tool_arguments",
        "tool_failed",
        "tool_timeout",
        "tool_denied",
        "tool_not_found",
        "tool_failed",
    ]
    assert results[0]["output"]["field"] == "a"
    assert "Division by zero" in results[1]["output"]["error"]
    assert "broken with 3" in results[5]["output"]["error"]
    fed_back = [message.text for message in script.calls[1].messages if message.role is Role.TOOL]
    assert len(fed_back) == 6 and "error" in fed_back[0]
    assert service.metrics.count("python", ToolOutcomeKind.DENIED) == 1
    assert service.metrics.count("slow", ToolOutcomeKind.TIMEOUT) == 1
    assert service.metrics.count("calculator", ToolOutcomeKind.INVALID) == 1


async def test_step_limit() -> None:
    script = Script([_asks(("echo", {"text": str(index)})) for index in range(10)])
    toolbox = build_toolbox(tool_service(), PRINCIPAL, ["echo"])
    result = await run_agent_loop(_user("loop"), toolbox, script, max_steps=3)
    assert result.stop_reason is StopReason.MAX_STEPS
    assert result.steps == 3 and len(script.calls) == 3 and result.tool_calls == 3


async def test_time_budget() -> None:
    settings = ToolsSettings(custom=["tests.agents.tools.plugins.custom:greet"])
    toolbox = build_toolbox(tool_service(settings), PRINCIPAL, ["greet"])

    async def slow_model(call: ModelCall) -> AsyncIterator[StreamEvent]:
        if len(call.messages) > 1:
            yield TextDelta("Thinking")
            await asyncio.sleep(5)  # cut short, mid-stream
        for event in result_to_events(_result(_asks(("greet", {"name": "Ada"})), Usage())):
            yield event

    started = time.perf_counter()
    result = await run_agent_loop(_user("hi"), toolbox, slow_model, time_budget=0.3)
    assert time.perf_counter() - started < 1.5
    assert result.stop_reason is StopReason.TIME_BUDGET and result.steps == 1
    assert result.messages[-1].message.text == "Hello, Ada!"


async def test_client_function_tools_are_returned_untouched() -> None:
    client_tool = ToolSpec("lookup_order", "the client's own", {"type": "object", "properties": {}})
    call = _user("where is my order")
    call.tools = [client_tool]
    script = Script(
        [_asks(("calculator", {"operation": "add", "a": 1, "b": 1}), ("lookup_order", {"id": 7}))]
    )
    toolbox = build_toolbox(tool_service(), PRINCIPAL, ["calculator"])
    result = await run_agent_loop(call, toolbox, script)
    assert result.stop_reason is StopReason.CLIENT_TOOLS
    assert [item.name for item in result.client_calls] == ["lookup_order"]
    assert orjson.loads(result.client_calls[0].arguments) == {"id": 7}
    assert [spec.name for spec in script.calls[0].tools] == ["lookup_order", "calculator"]


def test_toolbox_refuses_denied_and_unknown_tools() -> None:
    service = tool_service(
        ToolsSettings(
            tenants={"acme": ToolPolicySettings(mode=ToolPolicyMode.ALLOW_LIST, allow=["echo"])}
        )
    )
    assert build_toolbox(service, PRINCIPAL).names == ["echo"]
    with pytest.raises(Exception, match="not allowed") as denied:
        build_toolbox(service, PRINCIPAL, ["calculator"])
    assert getattr(denied.value, "status", None) == 403
    with pytest.raises(Exception, match="No tool") as unknown:
        build_toolbox(service, PRINCIPAL, ["nothing"])
    assert getattr(unknown.value, "status", None) == 404
