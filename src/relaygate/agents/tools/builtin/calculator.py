"""The calculator tool: the four operations, power, sqrt, mod, and expressions."""

from __future__ import annotations

import operator
from typing import Any

from relaygate.agents.tools.base import Tool, ToolContext
from relaygate.agents.tools.builtin.arithmetic import (
    Number,
    divide,
    evaluate,
    power,
    square_root,
    tidy,
)
from relaygate.agents.tools.errors import ToolFailed

OPERATIONS = ["add", "subtract", "multiply", "divide", "power", "sqrt", "mod", "evaluate"]

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "a": {"type": "number", "description": "The first operand (the only one for sqrt)."},
        "b": {"type": "number", "description": "The second operand."},
        "operation": {"type": "string", "enum": OPERATIONS},
        "formula": {
            "type": "string",
            "description": "For operation 'evaluate': an arithmetic expression, e.g. '2 * (3 + 4) ** 2'.",
        },
    },
    "required": ["operation"],
    "additionalProperties": False,
}


def _operand(arguments: dict[str, Any], name: str, operation: str) -> Number:
    value = arguments.get(name)
    if value is None:
        raise ToolFailed(f"The operation {operation!r} needs the operand {name!r}.", param=name)
    number: Number = value
    return number


def calculate(arguments: dict[str, Any]) -> Number:
    operation = arguments["operation"]
    if operation == "evaluate":
        formula = arguments.get("formula")
        if not formula:
            raise ToolFailed("The operation 'evaluate' needs 'formula'.", param="formula")
        return evaluate(formula)
    a = _operand(arguments, "a", operation)
    if operation == "sqrt":
        return tidy(square_root(a))
    b = _operand(arguments, "b", operation)
    if operation == "divide":
        return tidy(divide(a, b, operator.truediv))
    if operation == "mod":
        return tidy(divide(a, b, operator.mod))
    if operation == "power":
        return tidy(power(a, b))
    binary = {"add": operator.add, "subtract": operator.sub, "multiply": operator.mul}
    return tidy(binary[operation](a, b))


async def _run(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    return {"result": calculate(arguments)}


def calculator_tool() -> Tool:
    return Tool(
        name="calculator",
        description=(
            "Exact arithmetic: add, subtract, multiply, divide, power, sqrt (of a), mod, or "
            "'evaluate' an arithmetic expression given as 'formula'."
        ),
        function=_run,
        parameters=SCHEMA,
    )
