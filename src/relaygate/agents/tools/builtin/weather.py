"""The weather and web_search tools, over a pluggable backend."""

from __future__ import annotations

from typing import Any

from relaygate.agents.tools.base import Tool, ToolContext, ToolFunction
from relaygate.agents.tools.builtin.backends import SearchBackend, WeatherBackend

_DEMO = "[DEMO: offline, made-up data — no real backend configured] "


def weather_tool(backend: WeatherBackend) -> Tool:
    async def run(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
        return await backend.current(arguments["location"], arguments.get("units", "metric"))

    return Tool(
        name="weather",
        description=(_DEMO if backend.demo else "")
        + "The current weather for a location (city name).",
        function=run,
        parameters={
            "type": "object",
            "properties": {
                "location": {"type": "string", "minLength": 1, "maxLength": 200},
                "units": {"type": "string", "enum": ["metric", "imperial"], "default": "metric"},
            },
            "required": ["location"],
            "additionalProperties": False,
        },
    )


def web_search_tool(backend: SearchBackend) -> Tool:
    async def run(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
        results = await backend.search(arguments["query"], arguments.get("max_results", 3))
        payload: dict[str, Any] = {"query": arguments["query"], "results": results}
        if backend.demo:
            payload["demo"] = True
        return payload

    function: ToolFunction = run
    return Tool(
        name="web_search",
        description=(_DEMO if backend.demo else "")
        + "Search the web; returns titles, URLs and snippets.",
        function=function,
        parameters={
            "type": "object",
            "properties": {
                "query": {"type": "string", "minLength": 1, "maxLength": 500},
                "max_results": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
            },
            "required": ["query"],
            "additionalProperties": False,
        },
    )
