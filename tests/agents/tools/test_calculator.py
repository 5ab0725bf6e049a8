"""The calculator: every operation, the expression evaluator, and its clear refusals."""

from __future__ import annotations

import pytest

from relaygate.agents.tools.builtin.arithmetic import evaluate
from relaygate.agents.tools.builtin.calculator import calculate
from relaygate.agents.tools.errors import ToolFailed


@pytest.mark.parametrize(
    ("operation", "a", "b", "expected"),
    [
        ("add", 5, 3, 8),
        ("subtract", 5, 3, 2),
        ("multiply", 2.5, 4, 10),
        ("divide", 7, 2, 3.5),
        ("power", 2, 10, 1024),
        ("mod", 17, 5, 2),
        ("sqrt", 81, None, 9),
        ("add", 0.1, 0.2, 0.3),
    ],
)
def test_operations(operation: str, a: float, b: float | None, expected: float) -> None:
    arguments = {"operation": operation, "a": a} | ({"b": b} if b is not None else {})
    assert calculate(arguments) == expected


def test_zero_division_and_negative_sqrt_are_clear_errors() -> None:
    with pytest.raises(ToolFailed, match="Division by zero"):
        calculate({"operation": "divide", "a": 1, "b": 0})
    with pytest.raises(ToolFailed, match="Division by zero"):
        calculate({"operation": "mod", "a": 1, "b": 0})
    with pytest.raises(ToolFailed, match="square root of a negative number"):
        calculate({"operation": "sqrt", "a": -4})
    with pytest.raises(ToolFailed, match="needs the operand 'b'"):
        calculate({"operation": "add", "a": 1})


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("2 * (3 + 4) ** 2", 98),
        ("2^3", 8),
        ("-5 + +2", -3),
        ("sqrt(16) / 8", 0.5),
        ("7 // 2 + 7 % 2", 4),
        ("max(1, 5, 3) * pi / pi", 5),
        ("10 ÷ 4", 2.5),
    ],
)
def test_expressions(expression: str, expected: float) -> None:
    assert evaluate(expression) == expected
    assert calculate({"operation": "evaluate", "formula": expression}) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('true')",
        "open('/etc/passwd')",
        "(1).__class__",
        "[1, 2]",
        "x + 1",
        "lambda: 1",
        "'a' * 3",
        "True + 1",
    ],
)
def test_expressions_outside_arithmetic_are_refused(expression: str) -> None:
    with pytest.raises(ToolFailed):
        evaluate(expression)


def test_huge_results_and_bad_syntax_are_refused_quickly() -> None:
    with pytest.raises(ToolFailed, match="too large"):
        evaluate("9 ** 9 ** 9")
    with pytest.raises(ToolFailed, match="too large"):
        evaluate("10 ** 5000")
    with pytest.raises(ToolFailed, match="Division by zero"):
        evaluate("1 / (2 - 2)")
    with pytest.raises(ToolFailed, match="Cannot parse"):
        evaluate("2 +")
    with pytest.raises(ToolFailed, match="longer than"):
        evaluate("1+" * 400 + "1")
