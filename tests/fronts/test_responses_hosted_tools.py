"""Gateway tools as hosted tools of `/v1/responses`, with the official openai SDK:
`{"type": "relaygate:calculator"}` runs in the gateway's agent loop, while the client's
own function tools are returned to it untouched."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.support.servers import GatewayProcess, run_gateway

KEY = "sk-hosted-tools-0123456789"
LIMITED = "sk-hosted-limited-0123456789"
CALCULATOR: Any = {"type": "relaygate:calculator"}
BASH: Any = {"type": "relaygate:bash"}
UNKNOWN: Any = {"type": "relaygate:nothing"}
WEB_SEARCH: Any = {"type": "web_search_preview"}
WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "The client's own weather lookup",
    "parameters": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    config = {
        "keys": [
            {"tenant": "acme", "key": KEY},
            {"tenant": "acme", "key": LIMITED, "name": "nocalc"},
        ],
        "tools": {"keys": {"nocalc": {"mode": "deny_list", "deny": ["calculator"]}}},
    }
    with run_gateway(tmp_path_factory.mktemp("hosted"), config) as process:
        yield process


@pytest.fixture
def client(gateway: GatewayProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=KEY, max_retries=0)


def test_hosted_calculator_runs_in_the_gateway(client: openai.OpenAI) -> None:
    raw = client.responses.with_raw_response.create(
        model="mock", input="Calculate 5 + 3", tools=[CALCULATOR]
    )
    body = raw.http_response.json()
    response = raw.parse()
    assert response.status == "completed"
    kinds = [item["type"] for item in body["output"]]
    assert kinds == ["relaygate:tool_call", "message"]
    call = body["output"][0]
    assert call["name"] == "calculator" and call["status"] == "completed"
    assert json.loads(call["arguments"]) == {"a": 5, "b": 3, "operation": "add"}
    assert call["output"] == '{"result":8}' and call["error"] is None
    assert call["id"] and call["call_id"]
    assert response.output_text == "The result is 8."
    assert response.usage is not None and response.usage.input_tokens > 0


def test_client_function_tools_come_back_untouched(
    client: openai.OpenAI, gateway: GatewayProcess
) -> None:
    raw = client.responses.with_raw_response.create(
        model="mock",
        input="What is the weather in Paris, and calculate 5 + 3",
        tools=[CALCULATOR, WEATHER],
    )
    body = raw.http_response.json()
    first = raw.parse()
    kinds = sorted(item["type"] for item in body["output"])
    assert kinds == ["function_call", "relaygate:tool_call"]
    assert body["status"] == "completed"
    function_call = next(item for item in first.output if item.type == "function_call")
    assert function_call.name == "get_weather"
    assert json.loads(function_call.arguments) == {"location": "Paris"}
    second = client.responses.create(
        model="mock",
        previous_response_id=first.id,
        input=[
            {
                "type": "function_call_output",
                "call_id": function_call.call_id,
                "output": "sunny, 21°C",
            }
        ],
        tools=[CALCULATOR, WEATHER],
    )
    assert second.status == "completed"
    # the model now sees both results: the gateway's (kept in the chain) and the client's
    assert "calculator: 8" in second.output_text
    assert "get_weather: sunny, 21°C" in second.output_text


def test_hosted_tool_results_stay_in_the_chain(client: openai.OpenAI) -> None:
    first = client.responses.create(model="mock", input="Calculate 6 * 7", tools=[CALCULATOR])
    assert first.output_text == "The result is 42."
    follow = client.responses.create(
        model="echo", previous_response_id=first.id, input="thanks", tools=[CALCULATOR]
    )
    alone = client.responses.create(model="echo", input="thanks", tools=[CALCULATOR])
    assert follow.status == "completed"
    assert follow.usage is not None and alone.usage is not None
    # the first exchange (question, tool call, its result, the answer) is in the context
    assert follow.usage.input_tokens > alone.usage.input_tokens + 20


def test_stateless_clients_can_send_hosted_items_back(client: openai.OpenAI) -> None:
    first = client.responses.with_raw_response.create(
        model="mock", input="Calculate 6 * 7", tools=[CALCULATOR], store=False
    )
    call = first.http_response.json()["output"][0]
    assert call["type"] == "relaygate:tool_call"
    replay: Any = [{"role": "user", "content": "Calculate 6 * 7"}, call]
    # the chain ends with the tool's result: the mock model answers from it
    again = client.responses.create(model="mock", input=replay, tools=[CALCULATOR], store=False)
    assert again.output_text == "The result is 42."


def test_tool_errors_go_to_the_model_not_the_client(client: openai.OpenAI) -> None:
    raw = client.responses.with_raw_response.create(
        model="mock", input="Calculate 5 / 0", tools=[CALCULATOR]
    )
    body = raw.http_response.json()
    assert raw.http_response.status_code == 200 and body["status"] == "completed"
    call = body["output"][0]
    assert call["type"] == "relaygate:tool_call" and call["status"] == "failed"
    assert call["output"] is None and "zero" in call["error"].lower()
    assert "zero" in raw.parse().output_text.lower()


def _stream(client: openai.OpenAI, **kwargs: Any) -> list[dict[str, Any]]:
    """The raw SSE events (the SDK's `responses.stream()` helper warns when it re-dumps
    the extension item type while accumulating, so read the plain event stream)."""
    with client.responses.with_streaming_response.create(stream=True, **kwargs) as raw:
        return [
            json.loads(line[len("data: ") :])
            for line in raw.iter_lines()
            if line.startswith("data: {")
        ]


def test_streaming_reports_hosted_calls_as_items(client: openai.OpenAI) -> None:
    events = _stream(client, model="mock", input="Calculate 2 ^ 10", tools=[CALCULATOR])
    added = [event["item"] for event in events if event["type"] == "response.output_item.added"]
    assert [item["type"] for item in added] == ["relaygate:tool_call", "message"]
    done = next(event["item"] for event in events if event["type"] == "response.output_item.done")
    assert done["output"] == '{"result":1024}' and done["status"] == "completed"
    assert events[-1]["type"] == "response.completed"
    final = events[-1]["response"]
    assert final["output"][-1]["content"][0]["text"] == "The result is 1024."
    assert final["usage"]["input_tokens"] > 0
    numbers = [event["sequence_number"] for event in events]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def test_streaming_returns_client_calls_untouched(client: openai.OpenAI) -> None:
    events = _stream(
        client,
        model="mock",
        input="What is the weather in Paris, and calculate 5 + 3",
        tools=[CALCULATOR, WEATHER],
    )
    assert events[-1]["type"] == "response.completed"
    output = events[-1]["response"]["output"]
    assert sorted(item["type"] for item in output) == ["function_call", "relaygate:tool_call"]
    function_call = next(item for item in output if item["type"] == "function_call")
    assert function_call["name"] == "get_weather"
    assert json.loads(function_call["arguments"]) == {"location": "Paris"}
    arguments = "".join(
        event["delta"]
        for event in events
        if event["type"] == "response.function_call_arguments.delta"
    )
    assert json.loads(arguments) == {"location": "Paris"}


def test_background_runs_hosted_tools(client: openai.OpenAI) -> None:
    queued = client.responses.create(
        model="mock", input="Calculate 9 - 4", tools=[CALCULATOR], background=True
    )
    deadline = time.monotonic() + 20
    response = client.responses.retrieve(queued.id)
    while response.status in ("queued", "in_progress") and time.monotonic() < deadline:
        time.sleep(0.05)
        response = client.responses.retrieve(queued.id)
    assert response.status == "completed"
    assert response.output_text == "The result is 5."


def test_policies_apply_to_hosted_tools(client: openai.OpenAI, gateway: GatewayProcess) -> None:
    with pytest.raises(openai.PermissionDeniedError, match="dangerous"):
        client.responses.create(model="mock", input="run it", tools=[BASH])
    with pytest.raises(openai.NotFoundError, match="No tool named"):
        client.responses.create(model="mock", input="x", tools=[UNKNOWN])
    with pytest.raises(openai.BadRequestError, match="not available"):
        client.responses.create(model="mock", input="x", tools=[WEB_SEARCH])
    limited = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=LIMITED, max_retries=0)
    with pytest.raises(openai.PermissionDeniedError) as denied:  # the key's own policy
        limited.responses.create(model="mock", input="Calculate 1 + 1", tools=[CALCULATOR])
    assert denied.value.code == "tool_denied"
    with pytest.raises(openai.PermissionDeniedError):
        limited.responses.create(
            model="mock", input="Calculate 1 + 1", tools=[CALCULATOR], stream=True
        )


def test_hosted_calls_count_in_the_tool_metrics(
    client: openai.OpenAI, gateway: GatewayProcess
) -> None:
    client.responses.create(model="mock", input="Calculate 3 + 4", tools=[CALCULATOR])
    exposition = httpx.get(f"{gateway.base_url}/metrics", timeout=10).text
    assert 'relaygate_tool_calls_total{outcome="ok",tool="calculator"}' in exposition
    assert 'relaygate_tool_duration_seconds_count{tool="calculator"}' in exposition


def test_a_loop_stopped_at_its_step_limit_is_incomplete(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """One step allowed: the model asks for the calculator, the gateway runs it, and the
    answer that would need a second step never comes; the response says why."""
    config = {"tools": {"loop": {"max_steps": 1}}}
    with run_gateway(tmp_path_factory.mktemp("one-step"), config) as process:
        client = openai.OpenAI(base_url=f"{process.base_url}/v1", api_key="x", max_retries=0)
        response = client.responses.create(
            model="mock", input="Calculate 5 + 3", tools=[CALCULATOR]
        )
        assert response.status == "incomplete"
        assert response.incomplete_details is not None
        assert response.incomplete_details.reason == "max_steps"
        kinds = [item.type for item in response.output]
        assert "message" not in kinds  # no final answer was produced
        with client.responses.stream(
            model="mock", input="Calculate 5 + 3", tools=[CALCULATOR]
        ) as stream:
            events = [event.type for event in stream]
        assert events[-1] == "response.incomplete"
        assert client.responses.retrieve(response.id).status == "incomplete"
