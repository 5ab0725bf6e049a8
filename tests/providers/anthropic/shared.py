"""What the `anthropic` provider's test modules share: the upstream key (never to be
logged) and the calculator tool in both fronts' shapes."""

from __future__ import annotations

from typing import Any

UPSTREAM_KEY = "sk-ant-upstream-secret-98765"
CALCULATOR_SCHEMA = {
    "type": "object",
    "properties": {
        "a": {"type": "number"},
        "b": {"type": "number"},
        "operation": {"type": "string", "enum": ["add", "subtract", "multiply", "divide"]},
    },
    "required": ["a", "b", "operation"],
}
CHAT_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "calculator",
        "description": "Arithmetic",
        "parameters": CALCULATOR_SCHEMA,
    },
}
MESSAGES_TOOL: Any = {
    "name": "calculator",
    "description": "Arithmetic",
    "input_schema": CALCULATOR_SCHEMA,
}
