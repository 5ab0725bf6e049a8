"""Prompt templates from every front, through the official SDKs, on a real socket."""

from __future__ import annotations

import uuid
from typing import Any, cast

import anthropic
import httpx
import openai
import pytest

from tests.prompts.conftest import make_template
from tests.support.servers import ThreadedServer

GREETER = {
    "instructions": "Be {{ tone }}.",
    "messages": [{"role": "user", "content": "Hello {{ name }}"}],
    "variables": [{"name": "name", "type": "string"},
                  {"name": "tone", "required": False, "default": "kind"}],
    "model": "echo",
}


def _name() -> str:
    return f"greeter-{uuid.uuid4().hex[:8]}"


def _openai(server: ThreadedServer, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=key, max_retries=0)


def test_responses_prompt_plain_and_streaming(server: ThreadedServer,
                                              admin: httpx.Client, api_key: str) -> None:
    template = make_template(admin, name=_name(), **GREETER)
    client = _openai(server, api_key)
    prompt: Any = {"id": template["id"], "variables": {"name": "Ada"}}
    response = client.responses.create(prompt=prompt)  # no model: the template's
    assert response.output_text == "Hello Ada"
    named: Any = {"id": template["name"], "version": "v1", "variables": {"name": "Bo"}}
    by_name = client.responses.create(prompt=named)
    assert by_name.output_text == "Hello Bo"
    deltas = [event.delta for event in client.responses.create(prompt=prompt, stream=True)
              if event.type == "response.output_text.delta"]
    assert "".join(deltas) == "Hello Ada"
    # the request's input comes after the template's messages
    after = client.responses.create(prompt=prompt, input="and goodbye")
    assert after.output_text == "and goodbye"


def test_a_missing_or_mistyped_variable_is_a_400_naming_it(server: ThreadedServer,
                                                           admin: httpx.Client, api_key: str) -> None:
    template = make_template(admin, name=_name(), **GREETER)
    client = _openai(server, api_key)
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(prompt={"id": template["id"], "variables": {}})
    body: Any = caught.value.body
    assert body["param"] == "prompt.variables.name"
    assert "name" in body["message"]
    with pytest.raises(openai.BadRequestError) as mistyped:
        client.responses.create(prompt=cast(Any, {"id": template["id"],
                                                  "variables": {"name": 3}}))
    assert mistyped.value.code == "invalid_variable"
    with pytest.raises(openai.NotFoundError):
        client.responses.create(prompt={"id": "pt_nothing_like_it"}, model="echo")


def test_a_sandbox_escape_in_a_template_is_refused(server: ThreadedServer,
                                                   admin: httpx.Client, api_key: str) -> None:
    template = make_template(admin, name=_name(), model="echo", messages=[
        {"role": "user", "content": "{{ ''.__class__.__mro__ }}"}])
    with pytest.raises(openai.BadRequestError) as caught:
        _openai(server, api_key).responses.create(prompt={"id": template["id"]})
    assert caught.value.code == "template_unsafe"
    assert "<class" not in str(caught.value.body)  # nothing of the object graph leaked


def test_chat_by_header_and_anthropic_by_metadata(server: ThreadedServer,
                                                  admin: httpx.Client, api_key: str) -> None:
    template = make_template(admin, name=_name(), **GREETER)
    client = _openai(server, api_key)
    messages: Any = [{"role": "user", "content": "hi"}]
    plain = client.chat.completions.create(model="mock", messages=messages)
    raw = client.chat.completions.with_raw_response.create(
        model="mock", messages=messages,
        extra_headers={"x-relaygate-prompt": f"{template['id']}@v1",
                       "x-relaygate-prompt-variables": '{"name": "Ada"}'})
    assert raw.headers["x-relaygate-prompt"] == f"{template['id']}@v1"
    filled = raw.parse()
    assert filled.usage is not None and plain.usage is not None
    assert filled.usage.prompt_tokens > plain.usage.prompt_tokens  # the template's messages
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="mock", messages=messages,
            extra_headers={"x-relaygate-prompt": template["name"]})
    assert caught.value.body["param"] == "prompt.variables.name"  # type: ignore[index]
    by_metadata = client.chat.completions.with_raw_response.create(
        model="mock", messages=messages,
        metadata={"relaygate_prompt": f'{{"id": "{template["name"]}", '
                                      '"variables": {"name": "Ada"}}'})
    assert by_metadata.headers["x-relaygate-prompt"] == f"{template['id']}@v1"

    claude = anthropic.Anthropic(base_url=server.base_url, api_key=api_key, max_retries=0)
    reply = claude.messages.with_raw_response.create(
        model="mock", max_tokens=50, messages=[{"role": "user", "content": "hi"}],
        metadata=cast(Any, {"relaygate_prompt": {"id": template["id"],
                                                 "variables": {"name": "Ada"}}}))
    assert reply.headers["x-relaygate-prompt"] == f"{template['id']}@v1"
    with pytest.raises(anthropic.BadRequestError) as refused:
        claude.messages.create(model="mock", max_tokens=50,
                               messages=[{"role": "user", "content": "hi"}],
                               extra_headers={"x-relaygate-prompt": template["id"]})
    assert refused.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert "name" in refused.value.body["error"]["message"]  # type: ignore[index]

    gemini = httpx.post(f"{server.base_url}/v1beta/models/mock:generateContent",
                        headers={"x-goog-api-key": api_key,
                                 "x-relaygate-prompt": f"{template['name']}@v1",
                                 "x-relaygate-prompt-variables": '{"name": "Ada"}'},
                        json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
                        timeout=10)
    assert gemini.status_code == 200, gemini.text
    assert gemini.headers["x-relaygate-prompt"] == f"{template['id']}@v1"


def test_a_session_names_a_template_its_context_fills(server: ThreadedServer,
                                                     admin: httpx.Client, api_key: str) -> None:
    template = make_template(admin, name=_name(), messages=[
        {"role": "system", "content": "You help {{ customer }}."}],
        variables=[{"name": "customer"}])
    with httpx.Client(base_url=server.base_url, timeout=10,
                      headers={"Authorization": f"Bearer {api_key}"}) as client:
        session = client.post("/api/sessions", json={
            "model": "echo", "metadata": {"relaygate_prompt": template["name"]}}).json()
        turn = client.post(f"/api/sessions/{session['id']}/messages",
                           json={"message": "hi"})
        assert turn.status_code == 400, turn.text  # `customer` is not in its context yet
        assert "customer" in turn.text
        client.put(f"/api/sessions/{session['id']}/context/customer",
                   json={"value": "Ada"}).raise_for_status()
        ok = client.post(f"/api/sessions/{session['id']}/messages", json={"message": "hi"})
        assert ok.status_code == 200, ok.text
        assert ok.headers["x-relaygate-prompt"] == f"{template['id']}@v1"
