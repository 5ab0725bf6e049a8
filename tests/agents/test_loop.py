"""The agent loop with the mock provider and with scripted models: tool calls, results,
multi-step runs, parallel calls, limits, and errors fed back to the model."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from relaygate.agents.loop import LoopEvent, StopReason, run_agent_loop
from relaygate.agents.tools.metrics import ToolOutcomeKind
from relaygate.agents.tools.toolbox import build_toolbox
from relaygate.config import ToolPolicyMode, ToolPolicySettings, ToolsSettings
from relaygate.pipeline.auth import Principal
from relaygate.types import Message, ModelCall, Role, TextPart, ToolCall, ToolSpec, Usage
from tests.agents.tools.support import mock_models, tool_service

PRINCIPAL = Principal("acme")


def _user(text: str) -> ModelCall:
    return ModelCall(model="mock", messages=[Message(Role.USER, [TextPart(text)])])


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, kind: str, payload: dict[str, Any]) -> None:
        self.events.append((kind, payload))

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]


class Script:
    """A scripted model: each step returns the next planned message and records its input."""

    def __init__(self, replies: list[Message]) -> None:
        self._replies: Iterator[Message] = iter(replies)
        self.calls: list[ModelCall] = []

    async def __call__(self, call: ModelCall) -> tuple[Message, Usage | None]:
        self.calls.append(call)
        return next(self._replies), Usage(input_tokens=10, output_tokens=2)


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


async def test_calculate_with_the_mock_model() -> None:
    service = tool_service()
    toolbox = build_toolbox(service, PRINCIPAL, ["calculator"])
    recorder = Recorder()
    result = await run_agent_loop(
        _user("Calculate 5 + 3"), toolbox, registry=mock_models(), emit=recorder
    )
    assert recorder.kinds() == [LoopEvent.TOOL_CALL, LoopEvent.TOOL_RESULT]
    call_event, result_event = recorder.events[0][1], recorder.events[1][1]
    assert call_event["name"] == "calculator"
    assert orjson.loads(call_event["arguments"]) == {"a": 5, "b": 3, "operation": "add"}
    assert result_event["output"] == {"result": 8} and result_event["is_error"] is False
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
    result = await run_agent_loop(_user("chain it"), toolbox, model_step=script)
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
    result = await run_agent_loop(_user("go"), toolbox, model_step=script)
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
    recorder = Recorder()
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
    result = await run_agent_loop(_user("try"), toolbox, model_step=script, emit=recorder)
    assert result.stop_reason is StopReason.ANSWERED
    results = sorted(  # events arrive as tools finish; sort back into call order
        (payload for kind, payload in recorder.events if kind == LoopEvent.TOOL_RESULT),
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
    result = await run_agent_loop(_user("loop"), toolbox, model_step=script, max_steps=3)
    assert result.stop_reason is StopReason.MAX_STEPS
    assert result.steps == 3 and len(script.calls) == 3 and result.tool_calls == 3


async def test_time_budget() -> None:
    settings = ToolsSettings(custom=["tests.agents.tools.plugins.custom:greet"])
    toolbox = build_toolbox(tool_service(settings), PRINCIPAL, ["greet"])

    async def slow_model(call: ModelCall) -> tuple[Message, Usage | None]:
        if len(call.messages) > 1:
            await asyncio.sleep(5)
        return _asks(("greet", {"name": "Ada"})), None

    started = time.perf_counter()
    result = await run_agent_loop(_user("hi"), toolbox, model_step=slow_model, time_budget=0.3)
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
    result = await run_agent_loop(call, toolbox, model_step=script)
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
