"""Custom tools for the tests: loaded from config as `module:function`."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from relaygate.agents.tools.base import ToolContext
from relaygate.agents.tools.decorator import tool


@tool(description="Greet someone, optionally loudly.")
def greet(name: Annotated[str, "who to greet"], loud: bool = False) -> str:
    text = f"Hello, {name}!"
    return text.upper() if loud else text


@tool(timeout=0.2)
async def slow(seconds: float) -> str:
    """Sleep, then answer (times out above 0.2 s)."""
    await asyncio.sleep(seconds)
    return "done"


async def whoami(context: ToolContext, style: Literal["short", "long"] = "short") -> dict[str, str]:
    """Which tenant is calling (a plain function, no decorator)."""
    return {"tenant": context.tenant, "style": style}


@tool()
def broken(value: int) -> int:
    """Always fails."""
    raise RuntimeError(f"broken with {value}")


class FailingWeather:
    """A weather backend whose service is down (what a real HTTP backend may raise)."""

    demo = False

    async def current(self, location: str, units: str) -> dict[str, Any]:
        raise ConnectionRefusedError(f"weather service unreachable for {location}")


def failing_weather() -> FailingWeather:
    return FailingWeather()
