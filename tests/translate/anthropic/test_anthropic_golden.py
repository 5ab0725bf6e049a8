"""Golden translations: recorded Anthropic samples → canonical → each target format.

Regenerate the expected files with `UPDATE_GOLDEN=1` after a deliberate change, and
read the diff: every changed line is a change users will see.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from relaygate.translate.anthropic.encode import encode_request as encode_anthropic
from relaygate.translate.anthropic.request import decode_request as decode_anthropic
from relaygate.translate.anthropic.response import decode_response
from relaygate.translate.anthropic.response import encode_result as encode_anthropic_result
from relaygate.translate.openai_chat.request import decode_request as decode_chat
from relaygate.translate.openai_chat.request import encode_request as encode_chat
from relaygate.translate.openai_chat.response import encode_result as encode_chat_result
from tests.support.anthropic_schema import check_message

SAMPLES = Path(__file__).parents[2] / "samples" / "anthropic"
GOLDEN = SAMPLES / "golden"
ANTHROPIC_REQUESTS = sorted(
    path.stem for path in (SAMPLES / "requests").glob("*.json") if not path.stem.startswith("chat_")
)
RESPONSES = sorted(path.stem for path in SAMPLES.glob("response_*.json"))


def load(path: Path) -> Any:
    return orjson.loads(path.read_bytes())


def check_golden(name: str, actual: Any) -> None:
    path = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN") == "1" or not path.exists():
        assert os.environ.get("CI") != "true" or path.exists(), f"missing golden file {path}"
        path.write_bytes(orjson.dumps(actual, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    assert actual == load(path), f"{name} differs from its golden file"


@pytest.mark.parametrize("case", ANTHROPIC_REQUESTS)
def test_anthropic_request_to_anthropic_upstream(case: str) -> None:
    call = decode_anthropic(load(SAMPLES / "requests" / f"{case}.json"))
    check_golden(f"{case}.to_anthropic", encode_anthropic(call, "claude-upstream"))


@pytest.mark.parametrize("case", ANTHROPIC_REQUESTS)
def test_anthropic_request_to_openai_chat_upstream(case: str) -> None:
    call = decode_anthropic(load(SAMPLES / "requests" / f"{case}.json"))
    call.extra = {}
    check_golden(f"{case}.to_openai_chat", encode_chat(call, "gpt-4o"))


def test_chat_request_to_anthropic_upstream() -> None:
    call = decode_chat(load(SAMPLES / "requests" / "chat_tools.json"))
    check_golden("chat_tools.to_anthropic", encode_anthropic(call, "claude-upstream"))


@pytest.mark.parametrize("case", RESPONSES)
def test_anthropic_response_to_openai_chat(case: str) -> None:
    result = decode_response(load(SAMPLES / f"{case}.json"))
    result.created = 1700000000
    check_golden(f"{case}.to_openai_chat", encode_chat_result(result))


@pytest.mark.parametrize("case", RESPONSES)
def test_anthropic_response_round_trips(case: str) -> None:
    """Upstream Anthropic body → canonical → Anthropic front body keeps what clients read."""
    original = load(SAMPLES / f"{case}.json")
    check_message(original)  # the recorded sample is today's shape, field for field
    again = encode_anthropic_result(decode_response(original))
    check_message(again)
    assert again["id"] == original["id"]
    assert again["stop_reason"] == original["stop_reason"]
    assert again["stop_sequence"] == original["stop_sequence"]
    assert again["content"] == [
        {key: value for key, value in block.items()} for block in original["content"]
    ]
    for key in ("input_tokens", "output_tokens"):
        assert again["usage"][key] == original["usage"][key]
    for key in ("cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens_details"):
        assert again["usage"][key] == original["usage"][key], key
    assert again["stop_details"] == original["stop_details"]
