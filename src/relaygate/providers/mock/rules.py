"""What the mock model says: the rules that turn a ModelCall into a planned reply."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from relaygate.providers.mock.examples import example_for
from relaygate.types import ImagePart, Message, ModelCall, Role, ToolChoiceMode, ToolSpec

_ARITHMETIC = re.compile(
    r"(-?\d+(?:\.\d+)?)\s*(\+|-|\*|/|x|×|÷|\^|%|plus|minus|times|divided by|to the power of|mod)"
    r"\s*(-?\d+(?:\.\d+)?)",
    re.IGNORECASE,
)
_LOCATION = re.compile(r"\b(?:in|for|at)\s+([A-Z][\w'-]*(?:[ ,]+[A-Z][\w'-]*)*)")
_OPERATIONS: dict[str, tuple[str, Callable[[float, float], float]]] = {
    "+": ("add", operator.add),
    "plus": ("add", operator.add),
    "-": ("subtract", operator.sub),
    "minus": ("subtract", operator.sub),
    "*": ("multiply", operator.mul),
    "x": ("multiply", operator.mul),
    "×": ("multiply", operator.mul),
    "times": ("multiply", operator.mul),
    "/": ("divide", operator.truediv),
    "÷": ("divide", operator.truediv),
    "divided by": ("divide", operator.truediv),
    "^": ("power", operator.pow),
    "to the power of": ("power", operator.pow),
    "%": ("mod", operator.mod),
    "mod": ("mod", operator.mod),
}


@dataclass(slots=True)
class PlannedCall:
    name: str
    arguments: dict[str, Any]


@dataclass(slots=True)
class Plan:
    text: str = ""
    calls: list[PlannedCall] = field(default_factory=list)


@dataclass(slots=True)
class Arithmetic:
    a: float | int
    b: float | int
    operation: str
    symbol: str

    def value(self) -> float | int | None:
        _, function = _OPERATIONS[self.symbol.lower()]
        try:
            result = function(self.a, self.b)
        except ZeroDivisionError:
            return None
        return int(result) if float(result).is_integer() else round(result, 10)


def _number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() else value


def find_arithmetic(text: str) -> Arithmetic | None:
    match = _ARITHMETIC.search(text)
    if match is None:
        return None
    symbol = match.group(2).lower()
    return Arithmetic(
        _number(match.group(1)), _number(match.group(3)), _OPERATIONS[symbol][0], symbol
    )


def _last_user_text(messages: list[Message]) -> str:
    for message in reversed(messages):
        if message.role is Role.USER:
            return message.text
    return ""


def _hints(text: str) -> dict[str, Any]:
    hints: dict[str, Any] = {"query": text, "text": text, "message": text, "q": text, "input": text}
    match = _ARITHMETIC.search(text)
    arithmetic = find_arithmetic(text)
    if match is not None and arithmetic is not None:
        hints.update(
            a=arithmetic.a,
            b=arithmetic.b,
            x=arithmetic.a,
            y=arithmetic.b,
            operation=arithmetic.operation,
            op=arithmetic.operation,
            expression=match.group(0),
        )
    location = _LOCATION.search(text)
    if location is not None:
        place = location.group(1).strip(" ,")
        hints.update(location=place, city=place, place=place)
    return hints


def _wants(tool: ToolSpec, text: str) -> bool:
    lowered = text.lower()
    name = tool.name.lower()
    if any(word in name for word in ("calc", "math", "arith")):
        return find_arithmetic(text) is not None or "calculate" in lowered
    if "weather" in name:
        return "weather" in lowered or "temperature" in lowered
    if "search" in name:
        return "search" in lowered or "look up" in lowered
    if "time" in name or "date" in name:
        return "time" in lowered or "date" in lowered
    spaced = name.replace("_", " ").replace("-", " ")
    return name in lowered or spaced in lowered


def _call(tool: ToolSpec, text: str) -> PlannedCall:
    return PlannedCall(tool.name, example_for(tool.parameters, hints=_hints(text)))


def _plan_tool_calls(call: ModelCall, text: str) -> list[PlannedCall]:
    choice = call.tool_choice
    tools = call.tools
    if choice is not None and choice.allowed is not None:
        tools = [tool for tool in tools if tool.name in choice.allowed]
    if not tools or (choice is not None and choice.mode is ToolChoiceMode.NONE):
        return []
    if choice is not None and choice.mode is ToolChoiceMode.NAMED:
        named = next((tool for tool in tools if tool.name == choice.name), None)
        return [_call(named, text)] if named is not None else []
    wanted = [tool for tool in tools if _wants(tool, text)]
    if call.parallel_tool_calls is False:
        wanted = wanted[:1]
    if not wanted and choice is not None and choice.mode is ToolChoiceMode.REQUIRED:
        wanted = [tools[0]]
    return [_call(tool, text) for tool in wanted]


def _answer_tool_results(messages: list[Message]) -> str:
    names = {call.id: call.name for message in messages for call in message.tool_calls}
    results = []
    for message in reversed(messages):
        if message.role is not Role.TOOL:
            break
        results.append(message)
    results.reverse()
    if len(results) == 1:
        content = results[0].text.strip()
        return f"The result is {_plain(content)}."
    lines = [
        f"{names.get(message.tool_call_id or '', 'tool')}: {_plain(message.text.strip())}"
        for message in results
    ]
    return "Here are the results. " + "; ".join(lines) + "."


def _plain(content: str) -> str:
    """`{"result": 8}` → `8`; anything else unchanged."""
    match = re.fullmatch(r'\{\s*"(?:result|value|answer)"\s*:\s*("?)([^"{}]*)\1\s*\}', content)
    return match.group(2) if match else content


def _chat_answer(call: ModelCall, text: str) -> str:
    images = sum(
        1 for message in call.messages for part in message.content if isinstance(part, ImagePart)
    )
    arithmetic = find_arithmetic(text)
    if arithmetic is not None:
        value = arithmetic.value()
        answer = (
            f"{arithmetic.a} {arithmetic.symbol} {arithmetic.b} = {value}"
            if value is not None
            else "Division by zero is undefined."
        )
    elif re.match(r"\s*(hi|hello|hey)\b", text, re.IGNORECASE):
        answer = "Hello! I am the relaygate mock model. How can I help you today?"
    elif text:
        answer = f"This is a mock reply to: {text}"
    else:
        answer = "This is a mock reply."
    if images:
        answer += f" I received {images} image{'s' if images > 1 else ''}."
    return answer


def plan_reply(call: ModelCall, upstream_model: str) -> Plan:
    """The whole reply of the mock (or echo) model, before limits are applied."""
    text = _last_user_text(call.messages)
    if upstream_model.startswith("echo"):
        return Plan(text=text)
    if call.messages and call.messages[-1].role is Role.TOOL:
        return Plan(text=_answer_tool_results(call.messages))
    calls = _plan_tool_calls(call, text)
    if calls:
        return Plan(calls=calls)
    fmt = call.response_format
    if fmt is not None and fmt.type.value != "text":
        schema = fmt.schema or {
            "type": "object",
            "properties": {"answer": {"type": "string"}},
            "required": ["answer"],
        }
        value = example_for(schema, hints={"answer": _chat_answer(call, text)})
        return Plan(text=orjson.dumps(value).decode())
    return Plan(text=_chat_answer(call, text))
