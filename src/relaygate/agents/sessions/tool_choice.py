"""A session's tools as stored: gateway tool names (run by the gateway's agent loop),
delegates (`agent:<name>`, `a2a:<alias>`: another agent, run for the model) and OpenAI
function tools (returned to the client) in one list (pure)."""

from __future__ import annotations

from typing import Any

from relaygate.agents.named.spec import A2A_PREFIX, AGENT_PREFIX
from relaygate.translate.openai_chat import wire
from relaygate.types import ToolSpec


def function_tools(tools: list[Any]) -> list[ToolSpec]:
    """The client function tools a session was created with (gateway tool names excluded)."""
    specs = []
    for tool in tools:
        if isinstance(tool, dict) and isinstance(tool.get("function"), dict):
            function = tool["function"]
            specs.append(
                ToolSpec(
                    name=str(function.get("name", "")),
                    description=function.get("description"),
                    parameters=function.get("parameters") or {"type": "object", "properties": {}},
                    strict=function.get("strict"),
                )
            )
    return specs




def is_delegate(entry: str) -> bool:
    return entry.startswith((AGENT_PREFIX, A2A_PREFIX))


def gateway_tool_names(tools: list[Any]) -> list[str]:
    return [tool for tool in tools if isinstance(tool, str) and not is_delegate(tool)]


def delegate_entries(tools: list[Any]) -> list[str]:
    """The `agent:<name>` and `a2a:<alias>` entries of a session's tools."""
    return [tool for tool in tools if isinstance(tool, str) and is_delegate(tool)]


def tool_list(tools: list[str | wire.Tool]) -> list[Any]:
    """A body's `tools` as stored: gateway tool names (each once), function tools as JSON."""
    names = dict.fromkeys(tool for tool in tools if isinstance(tool, str))
    functions = [tool.model_dump(exclude_none=True) for tool in tools if not isinstance(tool, str)]
    return [*names, *functions]
