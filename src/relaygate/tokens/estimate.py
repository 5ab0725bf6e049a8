"""Token counts for any model: exact for OpenAI's, documented approximations otherwise.

Claude and Gemini tokenizers cannot be run offline. Their counts are approximated from
the o200k_base count of the same text, scaled, plus per-message framing and the cost of
tool declarations. The constants and where each comes from are listed in docs/tokens.md,
with the error measured on tests/samples/tokens/corpus.json (prompts whose true counts
the vendors printed in their docs).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import StrEnum

from relaygate.tokens.tokenizer import count_prompt, count_text
from relaygate.types import ImagePart, Message, Role, ToolSpec


class Family(StrEnum):
    OPENAI = "openai"
    CLAUDE = "claude"
    GEMINI = "gemini"


@dataclass(frozen=True, slots=True)
class Approximation:
    text_factor: float  # vendor tokens per o200k token of plain text
    per_message: int  # framing per non-system message
    system_framing: int  # framing around a system prompt, when there is one
    first_turn_free: bool  # Gemini does not frame a lone first turn
    tools_base: int  # a fixed prompt the vendor adds when tools are declared
    tool_factor: float  # vendor tokens per o200k token of a compact tool declaration
    image: int  # a typical image


APPROXIMATIONS = {
    # 1.2: Anthropic's docs say OpenAI tokenizers undercount Claude by ~15-20%.
    # 346: Anthropic's documented tool-use system prompt (Claude 4, tool_choice auto).
    Family.CLAUDE: Approximation(1.2, 3, 3, False, 346, 1.2, 1600),
    # 1.0 and 1 per turn: fitted on the Gemini cookbook cases; 1.12 on its tools case;
    # 258: Google's documented fixed cost of one image.
    Family.GEMINI: Approximation(1.0, 1, 0, True, 0, 1.12, 258),
}
_BASE_MODEL = "gpt-4o"  # o200k_base


def family_of(model: str) -> Family:
    bare = model.rsplit("/", 1)[-1].lower()
    if "claude" in bare:
        return Family.CLAUDE
    if "gemini" in bare or "gemma" in bare:
        return Family.GEMINI
    return Family.OPENAI


def estimate_text(text: str, model: str) -> int:
    """Tokens in `text` for `model`: exact for OpenAI models, approximate otherwise."""
    family = family_of(model)
    if family is Family.OPENAI:
        return count_text(text, model)
    return math.ceil(count_text(text, _BASE_MODEL) * APPROXIMATIONS[family].text_factor)


def _message_text(message: Message) -> str:
    calls = "".join(call.name + call.arguments for call in message.tool_calls)
    return message.text + calls


def estimate_tools(tools: list[ToolSpec], family: Family) -> int:
    if not tools:
        return 0
    approximation = APPROXIMATIONS[family]
    declared = sum(
        count_text(
            json.dumps(
                {"name": tool.name, "description": tool.description, "parameters": tool.parameters},
                separators=(",", ":"),
            ),
            _BASE_MODEL,
        )
        for tool in tools
    )
    return approximation.tools_base + math.ceil(declared * approximation.tool_factor)


def estimate_prompt(messages: list[Message], tools: list[ToolSpec], model: str) -> int:
    """Prompt tokens for `model`: OpenAI's exact accounting, or the family's approximation."""
    family = family_of(model)
    if family is Family.OPENAI:
        return count_prompt(messages, tools, model)
    approximation = APPROXIMATIONS[family]
    text = sum(count_text(_message_text(message), _BASE_MODEL) for message in messages)
    turns = sum(1 for message in messages if message.role not in (Role.SYSTEM, Role.DEVELOPER))
    framed = turns - 1 if approximation.first_turn_free and turns else turns
    has_system = any(message.role in (Role.SYSTEM, Role.DEVELOPER) for message in messages)
    images = sum(
        1 for message in messages for part in message.content if isinstance(part, ImagePart)
    )
    return (
        math.ceil(text * approximation.text_factor)
        + approximation.per_message * framed
        + (approximation.system_framing if has_system else 0)
        + approximation.image * images
        + estimate_tools(tools, family)
    )
