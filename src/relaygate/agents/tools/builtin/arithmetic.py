"""An arithmetic expression evaluator that never calls `eval`: it walks the parsed tree
and allows only numbers, + - * / // % **, unary signs, a few constants and functions."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable

from relaygate.agents.tools.errors import ToolFailed

MAX_LENGTH = 500
MAX_EXPONENT = 10_000
MAX_INT_BITS = 4096
Number = int | float

_BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Number], Number]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}
_FUNCTIONS: dict[str, Callable[..., Number]] = {
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "floor": math.floor,
    "ceil": math.ceil,
    "sqrt": math.sqrt,
    "log": math.log,
    "log10": math.log10,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
}


def tidy(value: Number) -> Number:
    """8.0 → 8; floats rounded to 12 significant places to hide binary noise."""
    if isinstance(value, float):
        if math.isinf(value) or math.isnan(value):
            raise ToolFailed("The result is not a finite number.")
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return float(f"{value:.12g}")
    return value


def power(base: Number, exponent: Number) -> Number:
    if abs(exponent) > MAX_EXPONENT:
        raise ToolFailed(f"The exponent {exponent} is too large (limit {MAX_EXPONENT}).")
    if base == 0 and exponent < 0:
        raise ToolFailed("Zero cannot be raised to a negative power (division by zero).")
    try:
        result = operator.pow(base, exponent)
    except OverflowError:
        raise ToolFailed("The result is too large.") from None
    if isinstance(result, complex):
        raise ToolFailed("A negative number to a fractional power has no real result.")
    value: Number = result
    return value


def divide(a: Number, b: Number, kind: Callable[[Number, Number], Number]) -> Number:
    if b == 0:
        raise ToolFailed("Division by zero is undefined.")
    return kind(a, b)


def square_root(value: Number) -> Number:
    if value < 0:
        raise ToolFailed(f"Cannot take the square root of a negative number ({value}).")
    return math.sqrt(value)


def _check_size(value: Number) -> Number:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ToolFailed("The result is too large.")
    return value


def _binary(node: ast.BinOp) -> Number:
    kind = _BINARY.get(type(node.op))
    if kind is None:
        raise ToolFailed(f"The operator {type(node.op).__name__} is not allowed.")
    left, right = _walk(node.left), _walk(node.right)
    if kind is operator.pow:
        return _check_size(power(left, right))
    if kind in (operator.truediv, operator.floordiv, operator.mod):
        return divide(left, right, kind)
    return _check_size(kind(left, right))


def _call(node: ast.Call) -> Number:
    if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS or node.keywords:
        raise ToolFailed(f"Only these functions are allowed: {', '.join(sorted(_FUNCTIONS))}.")
    arguments = [_walk(argument) for argument in node.args]
    if node.func.id == "sqrt" and len(arguments) == 1:
        return square_root(arguments[0])
    try:
        return _FUNCTIONS[node.func.id](*arguments)
    except (ValueError, TypeError) as exc:
        raise ToolFailed(f"{node.func.id}(): {exc}") from None


def _walk(node: ast.AST) -> Number:
    if isinstance(node, ast.Expression):
        return _walk(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        if isinstance(node.value, bool):
            raise ToolFailed("Booleans are not numbers here.")
        return node.value
    if isinstance(node, ast.BinOp):
        return _binary(node)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_walk(node.operand))
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.Call):
        return _call(node)
    raise ToolFailed(f"Unsupported element in the expression: {type(node).__name__}.")


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression such as `2 * (3 + 4) ** 2 / sqrt(16)`."""
    if len(expression) > MAX_LENGTH:
        raise ToolFailed(f"The expression is longer than {MAX_LENGTH} characters.")
    text = expression.replace("^", "**").replace("×", "*").replace("÷", "/")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ToolFailed(f"Cannot parse the expression {expression!r}.") from None
    return tidy(_walk(tree))
