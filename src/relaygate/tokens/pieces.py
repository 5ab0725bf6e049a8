"""The mock provider's token count: one token per word piece, no tokenizer loaded.

A piece is what o200k_base's pre-tokenizer splits first: a run of letters with the space
before it, up to three digits, a run of punctuation, or whitespace. For plain English
this equals the o200k count (most words are one token); for anything else it is a
stable, deterministic stand-in, which is all a mock needs. It keeps the embedded default
gateway (`make run`) from loading bpe-openai (~140 MiB and ~1 s) before its first request.
"""

from __future__ import annotations

import re

from relaygate.tokens.tokenizer import count_prompt_with
from relaygate.types import Message, ToolSpec

_PIECES = re.compile(r"[^\S\n]?[^\W\d_]+|\d{1,3}|[^\S\n]?[^\s\w]+|\s*\n+|\s+(?!\S)|\s+")


def count_pieces(text: str) -> int:
    return len(_PIECES.findall(text)) if text else 0


def truncate_to_pieces(text: str, limit: int) -> str:
    """The longest prefix of `text` that is at most `limit` pieces."""
    end = 0
    for index, match in enumerate(_PIECES.finditer(text)):
        if index == limit:
            return text[:end]
        end = match.end()
    return text


def count_prompt_pieces(messages: list[Message], tools: list[ToolSpec]) -> int:
    """A prompt's tokens by OpenAI's accounting, its text counted in pieces."""
    return count_prompt_with(messages, tools, count_pieces)
