"""The official `openai` SDK against `/v1/responses`: create, stream (text and function
calls), retrieve, delete, input items, chains across providers, tenants, limits —
on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tests.support.responses_gateway import KEY_B, ResponsesGateway
from tests.support.responses_schema import validate

CALCULATOR: Any = {
    "type": "function",
    "name": "calculator",
    "description": "Do arithmetic",
    "parameters": {
        "type": "object",
        "properties": {
            "a": {"type": "number"},
            "b": {"type": "number"},
            "operation": {"type": "string", "enum": ["add", "subtract", "multiply", "divide"]},
        },
        "required": ["a", "b", "operation"],
    },
}
WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}




@pytest.fixture
def client(rgw: ResponsesGateway) -> openai.OpenAI:
    return rgw.client()


def test_create_text(client: openai.OpenAI) -> None:
    raw = client.responses.with_raw_response.create(model="echo", input="repeat after me")
    response = raw.parse()
    validate("ResponseResource", raw.http_response.json())
    assert response.status == "completed"
    assert response.output_text == "repeat after me"
    assert response.usage is not None and response.usage.output_tokens == 3
    assert response.id.startswith("resp_")


def test_stream_text(client: openai.OpenAI) -> None:
    with client.responses.stream(model="echo", input="one two three four") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert final.output_text == "one two three four"
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert kinds.count("response.output_text.delta") == 4
    assert client.responses.retrieve(final.id).output_text == "one two three four"


def test_stream_function_call_then_continue_with_its_output(client: openai.OpenAI) -> None:
    with client.responses.stream(model="mock", input="Calculate 12 * 4",
                                 tools=[CALCULATOR]) as stream:
        deltas = [e.delta for e in stream if e.type == "response.function_call_arguments.delta"]
        first = stream.get_final_response()
    call = next(item for item in first.output if item.type == "function_call")
    assert json.loads(call.arguments) == {"a": 12, "b": 4, "operation": "multiply"}
    assert "".join(deltas) == call.arguments and len(deltas) >= 2
    second = client.responses.create(
        model="mock",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "48"}],
        tools=[CALCULATOR],
    )
    assert second.output_text == "The result is 48."
    assert second.previous_response_id == first.id


def test_plain_function_tools_are_returned_untouched(client: openai.OpenAI) -> None:
    response = client.responses.create(model="mock", input="Calculate 2 + 2", tools=[CALCULATOR])
    assert [item.type for item in response.output] == ["function_call"]
    assert response.tools[0].name == "calculator"  # type: ignore[union-attr]


def test_allowed_tools_are_enforced(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model="mock",
        input="Calculate 5 + 3 and tell me the weather in Paris",
        tools=[CALCULATOR, WEATHER],
        tool_choice={"type": "allowed_tools", "mode": "auto",
                     "tools": [{"type": "function", "name": "get_weather"}]},
    )
    assert [item.name for item in response.output if item.type == "function_call"] == [
        "get_weather"
    ]


def test_retrieve_delete_and_input_items(client: openai.OpenAI) -> None:
    inputs: Any = [
        {"role": "developer", "content": "Be terse."},
        {"role": "user", "content": [{"type": "input_text", "text": "first"}]},
        {"role": "user", "content": "second"},
    ]
    response = client.responses.create(model="echo", input=inputs)
    assert client.responses.retrieve(response.id).output_text == "second"
    items = client.responses.input_items.list(response.id, order="asc")
    assert [item.role for item in items.data] == ["developer", "user", "user"]  # type: ignore[union-attr]
    page = client.responses.input_items.list(response.id, order="asc", limit=2)
    assert len(page.data) == 2 and page.has_more
    rest = client.responses.input_items.list(response.id, order="asc", after=page.data[-1].id)
    assert [item.id for item in rest.data] == [items.data[2].id]
    newest_first = client.responses.input_items.list(response.id)
    assert [i.id for i in newest_first.data] == [i.id for i in reversed(items.data)]
    client.responses.delete(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)


def test_chain_across_providers(rgw: ResponsesGateway, client: openai.OpenAI) -> None:
    first = client.responses.create(model="mock", input="hello there", instructions="Turn one.")
    second = client.responses.create(model="fake-gpt", input="and now you",
                                     previous_response_id=first.id)
    sent = rgw.fake_openai.requests[-1]["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("user", "hello there"),
        ("assistant", first.output_text),
        ("user", "and now you"),
    ]  # instructions are not carried over, as on OpenAI
    assert second.output_text == "and now you"
    third = client.responses.create(model="resp-gpt", input="third turn",
                                    previous_response_id=second.id, instructions="Be kind.")
    upstream = rgw.fake_responses.requests[-1]
    assert upstream["instructions"] == "Be kind."
    assert [item.get("role") for item in upstream["input"]] == [
        "user", "assistant", "user", "assistant", "user"
    ]
    assert third.output_text == "third turn [instructions: Be kind.]"


def test_store_false_is_not_retrievable(client: openai.OpenAI) -> None:
    response = client.responses.create(model="echo", input="secret", store=False)
    assert response.to_dict()["store"] is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)


def test_tenants_do_not_see_each_other(rgw: ResponsesGateway, client: openai.OpenAI) -> None:
    mine = client.responses.create(model="echo", input="tenant a only")
    other = rgw.client(KEY_B)
    with pytest.raises(openai.NotFoundError):
        other.responses.retrieve(mine.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.delete(mine.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.input_items.list(mine.id)
    with pytest.raises(openai.BadRequestError) as caught:
        other.responses.create(model="echo", input="x", previous_response_id=mine.id)
    assert caught.value.code == "previous_response_not_found"
    with pytest.raises(openai.NotFoundError):
        reference: Any = [{"type": "item_reference", "id": mine.output[0].id}]
        other.responses.create(model="echo", input=reference)
    assert client.responses.retrieve(mine.id).output_text == "tenant a only"


def test_item_reference_reuses_a_stored_item(client: openai.OpenAI) -> None:
    first = client.responses.create(model="echo", input="remember this sentence")
    item_id = client.responses.input_items.list(first.id).data[0].id
    again = client.responses.create(model="echo",
                                    input=[{"type": "item_reference", "id": item_id}])
    assert again.output_text == "remember this sentence"


def test_max_output_tokens_makes_it_incomplete(client: openai.OpenAI) -> None:
    words = " ".join(f"word{i}" for i in range(60))
    response = client.responses.create(model="echo", input=words, max_output_tokens=16)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.usage is not None and response.usage.output_tokens <= 16


def test_truncation_disabled_fails_and_auto_trims(client: openai.OpenAI) -> None:
    long_history: Any = [
        {"role": "user", "content": f"old message number {i} with padding words"}
        for i in range(8)
    ] + [{"role": "user", "content": "newest"}]
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="tiny", input=long_history)
    assert caught.value.code == "context_length_exceeded"
    trimmed = client.responses.create(model="tiny", input=long_history, truncation="auto")
    assert trimmed.output_text == "newest" and trimmed.truncation == "auto"


def test_invalid_input_and_unknown_ids(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as missing:
        client.responses.create(input="no model")
    assert missing.value.param == "model"
    with pytest.raises(openai.NotFoundError) as unknown:
        client.responses.retrieve("resp_does_not_exist")
    assert unknown.value.status_code == 404
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="no-such-model", input="x")


def test_compact_then_continue(rgw: ResponsesGateway, client: openai.OpenAI) -> None:
    first = client.responses.create(model="mock", input="hello, plan my trip")
    raw = client.responses.with_raw_response.compact(model="mock", previous_response_id=first.id)
    compacted = raw.parse()
    assert compacted.object == "response.compaction"
    assert [item.type for item in compacted.output] == ["message", "compaction"]
    body = raw.http_response.json()
    validate("CompactResource", body)
    items: Any = body["output"]
    client.responses.create(model="fake-gpt", input=[*items, {"role": "user", "content": "go"}])
    sent = rgw.fake_openai.requests[-1]["messages"]
    assert sent[0]["content"] == "hello, plan my trip"
    assert sent[1]["content"].startswith("[Summary of the earlier conversation]")
    assert sent[-1]["content"] == "go"


def test_chat_front_reaches_the_responses_upstream(rgw: ResponsesGateway) -> None:
    client = rgw.client()
    reply = client.chat.completions.create(
        model="resp-gpt", messages=[{"role": "user", "content": "via chat"}])
    assert reply.choices[0].message.content == "via chat"
    assert rgw.fake_responses.requests[-1]["model"] == "gpt-resp"
    assert rgw.fake_responses.headers[-1]["authorization"] == "Bearer sk-upstream-resp"
    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(model="oresp:fail-401",
                                       messages=[{"role": "user", "content": "x"}])
    assert "fake responses failure 401" in caught.value.message
    assert "sk-upstream-resp" not in rgw.process.logs()


def test_reasoning_summary_streams_as_summary_parts(client: openai.OpenAI) -> None:
    """An upstream's reasoning summary reaches the client as summary parts, streamed and
    stored; without `reasoning.summary` the same reasoning is reasoning_text content."""
    thinking = "The user wants an echo; I will repeat it."
    with client.responses.stream(model="resp-gpt", input="think first",
                                 reasoning={"effort": "low", "summary": "auto"}) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert "response.reasoning_summary_part.added" in kinds
    assert "response.reasoning_summary_text.done" in kinds
    assert final.output[0].type == "reasoning"
    assert [part.text for part in final.output[0].summary] == [thinking]
    assert final.output_text == "think first"
    stored = client.responses.retrieve(final.id).output[0]
    assert stored.type == "reasoning" and stored.summary[0].text == thinking
    raw = client.responses.create(model="resp-gpt", input="think", reasoning={"effort": "low"})
    assert raw.output[0].type == "reasoning" and raw.output[0].summary == []
    assert raw.output[0].content is not None and raw.output[0].content[0].text == thinking


def test_logprobs_from_an_upstream_that_gives_them(rgw: ResponsesGateway,
                                                   client: openai.OpenAI) -> None:
    include: Any = ["message.output_text.logprobs"]
    whole = client.responses.create(model="resp-gpt", input="one two three",
                                    include=include, top_logprobs=2)
    sent = rgw.fake_responses.requests[-1]
    assert sent["include"] == include and sent["top_logprobs"] == 2
    body: Any = whole.to_dict()
    validate("ResponseResource", body)
    logprobs = body["output"][0]["content"][0]["logprobs"]
    assert "".join(lp["token"] for lp in logprobs) == "one two three"
    assert all(len(lp["top_logprobs"]) == 2 and lp["logprob"] == -0.25 for lp in logprobs)
    with client.responses.stream(model="resp-gpt", input="four five", include=include) as stream:
        deltas: list[Any] = [e.to_dict() for e in stream
                             if e.type == "response.output_text.delta"]
    assert [[lp["token"] for lp in d["logprobs"]] for d in deltas] == [["four"], [" five"]]
    plain: Any = client.responses.create(model="resp-gpt", input="no logprobs").to_dict()
    assert "include" not in rgw.fake_responses.requests[-1]
    assert plain["output"][0]["content"][0]["logprobs"] == []
