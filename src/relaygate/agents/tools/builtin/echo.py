"""The echo tool: returns its text; handy for testing a client's tool plumbing."""

from __future__ import annotations

from typing import Any

from relaygate.agents.tools.base import Tool, ToolContext


async def _echo(arguments: dict[str, Any], context: ToolContext) -> str:
    text: str = arguments["text"]
    return text


def echo_tool() -> Tool:
    return Tool(
        name="echo",
        description="Returns the given text unchanged.",
        function=_echo,
        parameters={
            "type": "object",
            "properties": {"text": {"type": "string", "maxLength": 100_000}},
            "required": ["text"],
            "additionalProperties": False,
        },
    )
