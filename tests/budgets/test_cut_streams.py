"""`cut_streams: true`: a stream that outgrows its reservation and crosses a hard budget is
ended there with the front's error event; without it the stream finishes."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.budgets.support import new_key
from tests.support.servers import GatewayProcess, run_gateway

TEXT = " ".join(f"word{index}" for index in range(30))  # ~68 tokens in, as many out
CUT, KEPT = new_key(), new_key()
BUDGET = {"max_tokens": 100, "period": "day"}  # fits the reservation, not the whole reply


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    config = {
        "providers": {"mock": {"type": "mock"}},
        # the call's reservation is its input + 5: the echo reply outgrows it
        "models": [{"name": "short", "provider": "mock", "model": "echo",
                    "max_output_tokens": 5}],
        "keys": [
            {"key": CUT, "tenant": "t", "budget": {**BUDGET, "cut_streams": True}},
            {"key": KEPT, "tenant": "t", "budget": BUDGET},
        ],
    }
    with run_gateway(tmp_path_factory.mktemp("cut"), config) as process:
        yield process


def _stream(gateway: GatewayProcess, key: str) -> tuple[str, Exception | None]:
    client = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=key, max_retries=0)
    text = ""
    try:
        for chunk in client.chat.completions.create(
            model="short", stream=True, messages=[{"role": "user", "content": TEXT}]
        ):
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
    except openai.APIError as error:
        return text, error
    return text, None


def test_a_stream_crossing_a_hard_budget_is_cut_with_an_error_event(
    gateway: GatewayProcess,
) -> None:
    text, error = _stream(gateway, CUT)
    assert error is not None and "budget was exceeded during this stream" in str(error)
    assert text and len(text) < len(TEXT)  # it was cut midway, after some output


def test_without_cut_streams_the_stream_finishes(gateway: GatewayProcess) -> None:
    text, error = _stream(gateway, KEPT)
    assert error is None and text.strip() == TEXT
