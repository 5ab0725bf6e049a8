"""The neutral conversation the front × provider matrix sends (tests/test_matrix.py), what
each front's client reads back, and the SDK clients those clients share."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import anthropic
import openai

CALCULATOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "a": {"type": "number"},
        "b": {"type": "number"},
        "operation": {"type": "string", "enum": ["add", "subtract", "multiply", "divide"]},
    },
    "required": ["a", "b", "operation"],
}
TOOL_NAME = "calculator"
TOOL_DESCRIPTION = "Do arithmetic"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


@dataclass(frozen=True)
class Call:
    id: str
    name: str
    arguments: str  # JSON text as the front delivered it (streams: the fragments joined)


@dataclass(frozen=True)
class Msg:
    """user (text, optional image), assistant (text), call (a tool call), tool (a result)."""

    kind: str
    text: str = ""
    image: str | None = None
    call: Call | None = None


@dataclass
class Case:
    messages: list[Msg]
    system: str | None = None
    tools: bool = False
    max_tokens: int | None = None


@dataclass
class Outcome:
    text: str = ""
    calls: list[Call] = field(default_factory=list)
    finish: str = ""  # stop | tool_calls | length | content_filter
    input_tokens: int = 0
    output_tokens: int = 0


KEY = "matrix-client-key"


@lru_cache(maxsize=8)
def openai_client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=KEY, max_retries=0)


@lru_cache(maxsize=8)
def anthropic_client(base_url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base_url, api_key=KEY, max_retries=0)
