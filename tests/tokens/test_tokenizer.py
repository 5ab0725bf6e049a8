"""Exact OpenAI counts, offline: the figures OpenAI's cookbook ("How to count tokens with
tiktoken") prints next to the API's own `prompt_tokens` for the same requests."""

from __future__ import annotations

import bpe_openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relaygate.tokens.tokenizer import (
    count_prompt,
    count_text,
    encoding_name_for,
    prompt_token_ceiling,
    truncate_to_tokens,
)
from relaygate.types import Message, Role, TextPart, ToolSpec

JARGON = [
    (
        None,
        "You are a helpful, pattern-following assistant that translates corporate jargon "
        "into plain English.",
    ),
    ("example_user", "New synergies will help drive top-line growth."),
    ("example_assistant", "Things working well together will increase revenue."),
    (
        "example_user",
        "Let's circle back when we have more bandwidth to touch base on "
        "opportunities for increased leverage.",
    ),
    ("example_assistant", "Let's talk later when we're less busy about how to do better."),
]
LAST = "This late pivot means we don't have time to boil the ocean for the client deliverable."
WEATHER = ToolSpec(
    "get_current_weather",
    "Get the current weather in a given location",
    {
        "type": "object",
        "properties": {
            "location": {
                "type": "string",
                "description": "The city and state, e.g. San Francisco, CA",
            },
            "unit": {
                "type": "string",
                "description": "The unit of temperature to return",
                "enum": ["celsius", "fahrenheit"],
            },
        },
        "required": ["location"],
    },
)


def _jargon() -> list[Message]:
    messages = [Message(Role.SYSTEM, [TextPart(text)], name=name) for name, text in JARGON]
    return [*messages, Message(Role.USER, [TextPart(LAST)])]


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("openai/gpt-4.1-mini", "o200k_base"),
        ("o3", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-0613", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
    ],
)
def test_encoding_by_model(model: str, encoding: str) -> None:
    assert encoding_name_for(model) == encoding


def test_text_counts() -> None:
    assert count_text("tiktoken is great!", "gpt-4") == 6
    assert count_text("", "gpt-4o") == 0


@pytest.mark.parametrize(("model", "expected"), [("gpt-4o", 124), ("gpt-4-0613", 129)])
def test_messages_with_names_match_the_api(model: str, expected: int) -> None:
    """3 tokens of framing per message, +1 per name, 3 to prime the reply."""
    assert count_prompt(_jargon(), [], model) == expected


@pytest.mark.parametrize(("model", "expected"), [("gpt-4o", 101), ("gpt-4", 105)])
def test_tool_definitions_match_the_api(model: str, expected: int) -> None:
    messages = [
        Message(
            Role.SYSTEM,
            [
                TextPart(
                    "You are a helpful assistant that can answer to questions about the weather."
                )
            ],
        ),
        Message(Role.USER, [TextPart("What's the weather like in San Francisco?")]),
    ]
    assert count_prompt(messages, [WEATHER], model) == expected


def test_truncate_keeps_a_prefix_within_the_limit() -> None:
    text = "one two three four five six seven"
    cut = truncate_to_tokens(text, 3)
    assert text.startswith(cut) and count_text(cut) == 3
    assert truncate_to_tokens(text, 100) == text


_texts = st.text(st.characters(codec="utf-8"), max_size=200)
_tools = st.lists(
    st.builds(
        lambda name, about, properties: ToolSpec(
            name, about, {"type": "object", "properties": properties}
        ),
        st.from_regex(r"[a-z_]{1,20}", fullmatch=True),
        _texts,
        st.dictionaries(
            st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
            st.fixed_dictionaries(
                {"type": st.sampled_from(["string", "integer"]), "description": _texts},
                optional={"enum": st.lists(_texts, min_size=1, max_size=4)},
            ),
            max_size=4,
        ),
    ),
    max_size=3,
)


@settings(max_examples=150, deadline=None)
@given(
    texts=st.lists(_texts, min_size=1, max_size=5),
    tools=_tools,
    model=st.sampled_from(["gpt-4o", "gpt-4-turbo", "claude-sonnet-4", "gemini-2.5-pro"]),
)
def test_the_ceiling_is_never_below_the_exact_count(
    texts: list[str], tools: list[ToolSpec], model: str
) -> None:
    """Responses skips the tokenizer when the ceiling fits the window: it must be a bound."""
    messages = [Message(Role.USER if n % 2 else Role.SYSTEM, [TextPart(t)]) for n, t in
                enumerate(texts)]
    assert prompt_token_ceiling(messages, tools) >= count_prompt(messages, tools, model)


def test_counts_equal_the_encodings_token_lists() -> None:
    """The native count path gives what `encode_ordinary` gives, lone surrogates included."""
    for model in ("gpt-4o", "gpt-4"):
        encoding = bpe_openai.get_encoding(encoding_name_for(model))
        for text in ("hello world", "x\ud800y", "日本語のテキスト😀", "  spaces\n\nand 12345"):
            assert count_text(text, model) == len(encoding.encode_ordinary(text))
