"""Token counts: exact for OpenAI models (bpe-openai, offline), estimates for the rest.

Message-level counts follow OpenAI's documented accounting: every message costs 3
tokens of framing (+1 when it has a name) and every reply is primed with 3 more.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol

from relaygate.types import ImagePart, Message, Role, TextPart, ToolSpec

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3
IMAGE_TOKENS = 85  # OpenAI's charge for a low-detail image; a floor for the others
# tool definitions (OpenAI cookbook): per property, enum framing and items, the tools block end
PROPERTIES_START, PROPERTY_KEY, ENUM_START, ENUM_ITEM, TOOLS_END = 3, 3, -3, 3, 12

_CL100K_PREFIXES = ("gpt-4-", "gpt-3.5", "text-embedding-3", "text-embedding-ada")


def encoding_name_for(model: str) -> str:
    """o200k_base for current OpenAI models (and as the default), cl100k_base for GPT-4/3.5."""
    bare = model.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    if bare == "gpt-4" or bare.startswith(_CL100K_PREFIXES):
        return "cl100k_base"
    return "o200k_base"


class _Encoding(Protocol):
    def encode_ordinary(self, text: str) -> list[int]: ...

    def decode(self, tokens: list[int]) -> str: ...


@lru_cache(maxsize=4)
def _encoding(name: str) -> _Encoding:
    """Load an encoding on first use. bpe-openai costs ~140 MiB and ~1 s to import and
    load, so a gateway that never counts (upstreams report usage) never pays for it."""
    bpe_openai = importlib.import_module("bpe_openai")
    encoding: _Encoding = bpe_openai.get_encoding(name)
    return encoding


def preload(model: str = "gpt-4o") -> None:
    """Load the encoding for `model` now (e.g. in a worker thread at start-up)."""
    _encoding(encoding_name_for(model))


def count_text(text: str, model: str = "gpt-4o") -> int:
    if not text:
        return 0
    return _counter(model)(text)


@lru_cache(maxsize=64)
def _counter(model: str) -> Callable[[str], int]:
    """`model`'s token count of a text: the Rust tokenizer's own `count` (no token list is
    built), which bpe-openai's `encode_ordinary` wraps."""
    encoding = _encoding(encoding_name_for(model))
    native: Callable[[str], int] | None = getattr(getattr(encoding, "_backend", None),
                                                  "count", None)
    if native is None:  # another bpe-openai: through its public API
        return lambda text: len(encoding.encode_ordinary(text))

    def count(text: str) -> int:
        try:
            return native(text)
        except UnicodeEncodeError:  # lone surrogates: counted as encode_ordinary counts them
            return len(encoding.encode_ordinary(text))

    return count


def truncate_to_tokens(text: str, limit: int, model: str = "gpt-4o") -> str:
    """The longest prefix of `text` that is at most `limit` tokens."""
    encoding = _encoding(encoding_name_for(model))
    tokens = encoding.encode_ordinary(text)
    if len(tokens) <= limit:
        return text
    prefix: str = encoding.decode(tokens[:limit])
    return prefix


def count_message(message: Message, model: str = "gpt-4o") -> int:
    return _message_tokens(message, _text_counter(model), _framing(model))


def count_tools(tools: list[ToolSpec], model: str = "gpt-4o") -> int:
    """Tool definitions as OpenAI renders them into the prompt, with the constants of
    OpenAI's cookbook ("How to count tokens with tiktoken"), which match the API exactly
    on its example (101 prompt tokens on gpt-4o, 105 on gpt-4)."""
    if not tools:
        return 0
    return _tools_tokens(tools, _text_counter(model), _per_function(model))


def count_prompt(messages: list[Message], tools: list[ToolSpec], model: str = "gpt-4o") -> int:
    """The prompt tokens a model call will be charged for."""
    count = _text_counter(model)
    framing = _framing(model)
    tokens = REPLY_PRIMING_TOKENS
    for message in messages:
        tokens += _message_tokens(message, count, framing)
    if tools:
        tokens += _tools_tokens(tools, count, _per_function(model))
    return tokens


def prompt_token_ceiling(messages: list[Message], tools: list[ToolSpec]) -> int:
    """At least `count_prompt(messages, tools, model)` for every model, without loading a
    tokenizer: a byte-level BPE token covers one byte of UTF-8 or more."""
    return count_prompt_with(messages, tools, _utf8_length, 10)


def count_prompt_with(
    messages: list[Message], tools: list[ToolSpec], count: Callable[[str], int],
    per_function: int = 7,
) -> int:
    """OpenAI's prompt accounting (framing, tools) around any text counter."""
    framing = {role: TOKENS_PER_MESSAGE + count(role.value) for role in Role}
    return (
        sum(_message_tokens(message, count, framing) for message in messages)
        + _tools_tokens(tools, count, per_function)
        + REPLY_PRIMING_TOKENS
    )


def _per_function(model: str) -> int:
    return 10 if encoding_name_for(model) == "cl100k_base" else 7


@lru_cache(maxsize=64)
def _text_counter(model: str) -> Callable[[str], int]:
    """`count_text(…, model)`, with the model's counter found once."""
    native = _counter(model)
    return lambda text: native(text) if text else 0


@lru_cache(maxsize=64)
def _framing(model: str) -> dict[Role, int]:
    """Each role's framing: its message's fixed tokens and the role's name, counted once."""
    count = _text_counter(model)
    return {role: TOKENS_PER_MESSAGE + count(role.value) for role in Role}


def _utf8_length(text: str) -> int:
    return len(text.encode())


def _message_tokens(message: Message, count: Callable[[str], int],
                    framing: dict[Role, int]) -> int:
    tokens = framing[message.role]
    for part in message.content:
        if isinstance(part, TextPart):
            tokens += count(part.text)
        elif isinstance(part, ImagePart):
            tokens += IMAGE_TOKENS
    for call in message.tool_calls:
        tokens += count(call.name) + count(call.arguments)
    if message.name:
        tokens += TOKENS_PER_NAME + count(message.name)
    if message.reasoning:
        tokens += count(message.reasoning)
    return tokens


def _tools_tokens(tools: list[ToolSpec], count: Callable[[str], int], per_function: int) -> int:
    if not tools:
        return 0
    total = TOOLS_END
    for tool in tools:
        description = (tool.description or "").removesuffix(".")
        total += per_function + count(f"{tool.name}:{description}")
        properties = tool.parameters.get("properties")
        if not isinstance(properties, dict):  # `true`, a list: what a schema allows, nothing to count
            properties = {}
        if properties:
            total += PROPERTIES_START
        for name, schema in properties.items():
            if not isinstance(schema, dict):
                continue
            total += PROPERTY_KEY
            enum = schema.get("enum")
            if isinstance(enum, list) and enum:
                total += ENUM_START + sum(ENUM_ITEM + count(str(v)) for v in enum)
            kind = schema.get("type", "")
            about = str(schema.get("description", "")).removesuffix(".")
            total += count(f"{name}:{kind}:{about}")
    return total
