"""Token counts: exact for OpenAI models (bpe-openai, offline), estimates for the rest.

Message-level counts follow OpenAI's documented accounting: every message costs 3
tokens of framing (+1 when it has a name) and every reply is primed with 3 more.
"""

from __future__ import annotations

from functools import lru_cache

import bpe_openai

from relaygate.types import ImagePart, Message, TextPart, ToolSpec

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3
IMAGE_TOKENS = 85  # OpenAI's charge for a low-detail image; a floor for the others

_CL100K_PREFIXES = ("gpt-4-", "gpt-3.5", "text-embedding-3", "text-embedding-ada")


def encoding_name_for(model: str) -> str:
    """o200k_base for current OpenAI models (and as the default), cl100k_base for GPT-4/3.5."""
    bare = model.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    if bare == "gpt-4" or bare.startswith(_CL100K_PREFIXES):
        return "cl100k_base"
    return "o200k_base"


@lru_cache(maxsize=4)
def _encoding(name: str) -> bpe_openai.Encoding:
    return bpe_openai.get_encoding(name)


def count_text(text: str, model: str = "gpt-4o") -> int:
    if not text:
        return 0
    return len(_encoding(encoding_name_for(model)).encode_ordinary(text))


def truncate_to_tokens(text: str, limit: int, model: str = "gpt-4o") -> str:
    """The longest prefix of `text` that is at most `limit` tokens."""
    encoding = _encoding(encoding_name_for(model))
    tokens = encoding.encode_ordinary(text)
    if len(tokens) <= limit:
        return text
    prefix: str = encoding.decode(tokens[:limit])
    return prefix


def count_message(message: Message, model: str = "gpt-4o") -> int:
    tokens = TOKENS_PER_MESSAGE + count_text(message.role.value, model)
    for part in message.content:
        if isinstance(part, TextPart):
            tokens += count_text(part.text, model)
        elif isinstance(part, ImagePart):
            tokens += IMAGE_TOKENS
    for call in message.tool_calls:
        tokens += count_text(call.name, model) + count_text(call.arguments, model)
    if message.name:
        tokens += TOKENS_PER_NAME + count_text(message.name, model)
    if message.reasoning:
        tokens += count_text(message.reasoning, model)
    return tokens


def count_tools(tools: list[ToolSpec], model: str = "gpt-4o") -> int:
    """Tool definitions as OpenAI renders them into the prompt (a close estimate)."""
    if not tools:
        return 0
    total = 12
    for tool in tools:
        total += 8 + count_text(tool.name, model) + count_text(tool.description or "", model)
        properties = tool.parameters.get("properties") or {}
        for name, schema in properties.items():
            total += 3 + count_text(name, model)
            if isinstance(schema, dict):
                total += count_text(str(schema.get("type", "")), model)
                total += count_text(str(schema.get("description", "")), model)
                for value in schema.get("enum") or []:
                    total += 3 + count_text(str(value), model)
    return total


def count_prompt(messages: list[Message], tools: list[ToolSpec], model: str = "gpt-4o") -> int:
    """The prompt tokens a model call will be charged for."""
    return (
        sum(count_message(message, model) for message in messages)
        + count_tools(tools, model)
        + REPLY_PRIMING_TOKENS
    )
