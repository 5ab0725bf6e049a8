"""`read_prompt` (a relayed call's worst case, read from the JSON) gives exactly what
`decode_request` gives the worst case: the same messages and tools, so the same token count
for every model family, the same max_tokens, and the same 400 for a body it refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relaygate.errors import GatewayError, UnsupportedContent
from relaygate.tokens.estimate import estimate_prompt
from relaygate.translate.openai_chat.request import decode_request, read_prompt
from relaygate.types import Message, ToolSpec

TESTS = Path(__file__).resolve().parents[1]
MODELS = ["gpt-4o", "gpt-4", "openai/gpt-3.5-turbo", "claude-sonnet-4", "gemini-2.0-flash"]

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
NAME = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_.-]{0,12}", fullmatch=True)
MAYBE_NAME = st.one_of(st.none(), st.just(""), NAME)
EXTRA = st.dictionaries(st.sampled_from(["x_vendor", "cache_control", "audio"]),
                        st.one_of(st.none(), TEXT, st.integers(-9, 9)), max_size=1)
TEXT_PART = st.builds(lambda text: {"type": "text", "text": text}, TEXT)
IMAGE_PART = st.builds(
    lambda url, detail: {"type": "image_url",
                         "image_url": {"url": url, **({"detail": detail} if detail else {})}},
    st.sampled_from(["https://example.com/a.png", "data:image/png;base64,iVBORw0KGgo="]),
    st.sampled_from([None, "low", "high", "auto"]),
)
FILE_PART = st.builds(
    lambda data, name: {"type": "file", "file": {"file_data": data, "filename": name}},
    st.one_of(st.none(), st.just("data:application/pdf;base64,JVBERi0=")), MAYBE_NAME,
)
AUDIO_PART = st.just({"type": "input_audio", "input_audio": {"data": "UklGRg==",
                                                             "format": "wav"}})
TEXTS = st.one_of(TEXT, st.lists(TEXT_PART, max_size=3))
CALL_ID = st.from_regex(r"call_[a-z0-9]{2,8}", fullmatch=True)
TOOL_CALL = st.builds(
    lambda call_id, name, arguments: {"id": call_id, "type": "function",
                                      "function": {"name": name, "arguments": arguments}},
    CALL_ID, NAME,
    st.dictionaries(NAME, st.one_of(TEXT, st.integers(-99, 99)), max_size=3).map(
        lambda value: orjson.dumps(value).decode()),
)


def _message(role: str, required: dict[str, st.SearchStrategy[Any]],
             **optional: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A message of `role` with every field of `required` and some of `optional`."""
    return st.builds(
        lambda values, extra: {"role": role, **extra, **values},
        st.fixed_dictionaries(required, optional=optional), EXTRA,
    )


MESSAGE = st.one_of(
    _message("system", {"content": TEXTS}, name=MAYBE_NAME),
    _message("developer", {"content": TEXTS}, name=MAYBE_NAME),
    _message("user", {"content": st.one_of(TEXT, st.lists(
        st.one_of(TEXT_PART, IMAGE_PART, FILE_PART, AUDIO_PART), max_size=4))}, name=MAYBE_NAME),
    _message("assistant", {}, name=MAYBE_NAME,
             content=st.one_of(st.none(), TEXT, st.lists(
                 st.one_of(TEXT_PART, st.builds(lambda r: {"type": "refusal", "refusal": r},
                                                TEXT)), max_size=3)),
             tool_calls=st.one_of(st.none(), st.lists(TOOL_CALL, max_size=3)),
             reasoning_content=st.one_of(st.none(), TEXT), refusal=st.one_of(st.none(), TEXT)),
    _message("tool", {"content": TEXTS, "tool_call_id": CALL_ID}),
    _message("function", {"content": st.one_of(st.none(), TEXT), "name": NAME}),
)
SCHEMA = st.fixed_dictionaries(
    {"type": st.sampled_from(["string", "integer"])},
    optional={"description": TEXT,
              "enum": st.lists(st.one_of(TEXT, st.integers(-9, 9)), max_size=3)},
)
TOOL = st.builds(
    lambda function: {"type": "function", "function": function},
    st.fixed_dictionaries(
        {"name": NAME},
        optional={
            "description": st.one_of(st.none(), TEXT),
            "parameters": st.one_of(st.none(), st.just({}), st.fixed_dictionaries({
                "type": st.just("object"),
                "properties": st.dictionaries(NAME, st.one_of(SCHEMA, st.integers(-9, 9)),
                                              max_size=3)})),
            "strict": st.one_of(st.none(), st.booleans()),
        },
    ),
)
BODY = st.fixed_dictionaries(
    {"model": st.just("m"), "messages": st.lists(MESSAGE, min_size=1, max_size=5)},
    optional={
        "tools": st.one_of(st.none(), st.lists(TOOL, max_size=3)),
        "max_tokens": st.one_of(st.none(), st.integers(1, 10**6)),
        "max_completion_tokens": st.one_of(st.none(), st.integers(1, 10**6)),
        "stream": st.booleans(),
        "temperature": st.one_of(st.none(), st.floats(0, 2)),
        "user": TEXT,
        "x_vendor_field": st.integers(-9, 9),
    },
)
JSON_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), TEXT,
                       st.just([]), st.just({}), st.just([{"type": "text"}]))


@st.composite
def _broken(draw: st.DrawFn) -> dict[str, Any]:
    """A valid-looking body with one value somewhere replaced, dropped or added."""
    body: dict[str, Any] = orjson.loads(orjson.dumps(draw(BODY)))  # its own, to change
    paths: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in list(node):
                paths.append((node, key))
                walk(node[key])
        elif isinstance(node, list):
            for index in range(len(node)):
                paths.append((node, index))
                walk(node[index])

    walk(body)
    if not paths:
        return body
    node, key = draw(st.sampled_from(paths))
    action = draw(st.sampled_from(["replace", "drop", "add"]))
    if action == "replace":
        node[key] = orjson.loads(orjson.dumps(draw(JSON_VALUE)))
    elif action == "drop" and isinstance(node, dict):
        del node[key]
    elif isinstance(node, dict):
        node[draw(st.sampled_from(["role", "content", "type", "name", "n", "tool_calls"]))] = (
            orjson.loads(orjson.dumps(draw(JSON_VALUE))))
    return body


def _outcome(read: Any, body: Any) -> Any:
    try:
        return read(body)
    except GatewayError as error:
        return (type(error), error.status, error.message, error.param, error.code)


def assert_same_worst_case(body: Any) -> None:
    body = orjson.loads(orjson.dumps(body))  # as the front parsed it
    prompt = _outcome(read_prompt, body)
    decoded = _outcome(decode_request, body)
    if isinstance(prompt, tuple):  # refused: with the very error decoding gives
        assert prompt == decoded
        return
    if prompt is None:  # only decoding can tell: it refuses the body
        assert isinstance(decoded, tuple) and decoded[0] is UnsupportedContent
        return
    assert not isinstance(decoded, tuple), decoded
    assert prompt.messages == decoded.messages
    assert prompt.tools == decoded.tools
    assert prompt.max_tokens == decoded.max_tokens
    for model in MODELS:
        assert _count(prompt.messages, prompt.tools, model) == _count(
            decoded.messages, decoded.tools, model)


def _count(messages: list[Message], tools: list[ToolSpec], model: str) -> int | str:
    """The count, or the error counting raises (a tool's `properties` that is no object)."""
    try:
        return estimate_prompt(messages, tools, model)
    except (AttributeError, TypeError) as error:
        return type(error).__name__


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=BODY)
def test_generated_bodies_read_as_decoded(body: dict[str, Any]) -> None:
    assert_same_worst_case(body)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_broken())
def test_broken_bodies_refused_as_decoding_refuses(body: dict[str, Any]) -> None:
    assert_same_worst_case(body)


def _sample_bodies() -> list[Any]:
    """Every Chat Completions request body kept under tests/ (golden translations), and
    the token corpus's prompts as Chat bodies."""
    bodies: list[Any] = [
        json.loads(path.read_text())
        for path in sorted(TESTS.glob("golden/**/*request.to_openai_chat.json"))
    ]
    corpus = json.loads((TESTS / "samples/tokens/corpus.json").read_text())
    for case in corpus["cases"]:
        messages = [{"role": "system", "content": case["system"]}] if case["system"] else []
        messages += [{"role": role, "content": text} for role, text in case["messages"]]
        tools = [{"type": "function", "function": tool} for tool in case["tools"]]
        bodies.append({"model": case["model"], "messages": messages,
                       **({"tools": tools} if tools else {})})
    return bodies


@pytest.mark.parametrize("body", _sample_bodies())
def test_sample_bodies_read_as_decoded(body: Any) -> None:
    assert read_prompt(orjson.loads(orjson.dumps(body))) is not None
    assert_same_worst_case(body)


@pytest.mark.parametrize("body", [None, [], "text", {}, {"model": "m"},
                                  {"model": "m", "messages": []},
                                  {"model": "m", "messages": [{"role": "user"}]}])
def test_malformed_bodies_refused_alike(body: Any) -> None:
    assert_same_worst_case(body)
