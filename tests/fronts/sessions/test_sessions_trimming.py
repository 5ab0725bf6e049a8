"""The active context: what a turn really sends upstream is the system prompt plus the
newest history that fits the budget; what was left out is recorded on the turn."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.sessions import SessionsGateway, create_session, history_of

BUDGET = 160
SYSTEM = "You are a careful assistant."


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content)


def test_turns_send_the_newest_history_that_fits(
    api: httpx.Client, server: SessionsGateway
) -> None:
    session_id = create_session(api, model="fake-gpt", system=SYSTEM, max_context_tokens=BUDGET)
    trimmed_before = 0
    for n in range(8):
        text = f"message number {n}: " + "lorem ipsum dolor sit amet " * 3
        reply = api.post(f"/api/sessions/{session_id}/messages", json={"message": text})
        assert reply.status_code == 200, reply.text
        turn = reply.json()
        context = turn["context"]
        sent = server.upstream.requests[-1]["messages"]
        history = history_of(api, session_id)[:-2]  # what existed before this turn

        # what went upstream: the system prompt, the kept suffix of history, the new message
        kept = history[len(history) - context["history_messages_kept"] :] if history else []
        assert sent[0] == {"role": "system", "content": SYSTEM}
        assert [(m["role"], _text(m["content"])) for m in sent[1:-1]] == [
            (m["role"], m["content"]) for m in kept
        ]
        assert (sent[-1]["role"], sent[-1]["content"]) == ("user", text)

        # it fits, and one more older message would not have
        assert context["context_tokens"] <= BUDGET == context["budget_tokens"]
        trimmed = history[: context["trimmed_messages"]]
        assert context["trimmed_tokens"] == sum(m["tokens"] for m in trimmed)
        if trimmed:
            assert context["trimmed_through_seq"] == trimmed[-1]["seq"]
            assert context["context_tokens"] + trimmed[-1]["tokens"] > BUDGET
        assert context["trimmed_messages"] >= trimmed_before
        trimmed_before = context["trimmed_messages"]
        # recorded on the turn's reply, visible in the history
        assert history_of(api, session_id)[-1]["metadata"]["turn"]["context"] == context
    assert trimmed_before >= 8  # the conversation outgrew the budget


def test_a_message_larger_than_the_budget_is_refused(api: httpx.Client) -> None:
    session_id = create_session(api, model="fake-gpt", max_context_tokens=30)
    reply = api.post(f"/api/sessions/{session_id}/messages", json={"message": "word " * 60})
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "context_length_exceeded"
    assert history_of(api, session_id) == []


def test_model_context_window_minus_reply_budget_is_the_default(api: httpx.Client) -> None:
    session_id = create_session(api, model="fake-gpt", max_output_tokens=1000)
    reply = api.post(f"/api/sessions/{session_id}/messages", json={"message": "hello"})
    # no window configured for fake-gpt: the gateway default (128,000) minus the reply budget
    assert reply.json()["context"]["budget_tokens"] == 128_000 - 1000


def test_long_history_is_accounted_for_beyond_what_is_read(api: httpx.Client) -> None:
    session_id = create_session(api, model="echo", max_context_tokens=60)
    for n in range(40):  # 80 messages: more than one page of history
        reply = api.post(f"/api/sessions/{session_id}/messages", json={"message": f"note {n}"})
        assert reply.status_code == 200
    context = reply.json()["context"]
    history = history_of(api, session_id)[:-2]
    kept = context["history_messages_kept"]
    assert 0 < kept < len(history) == 78
    assert context["trimmed_messages"] == 78 - kept
    assert context["trimmed_through_seq"] == 78 - kept
    assert context["trimmed_tokens"] == sum(m["tokens"] for m in history[: 78 - kept])
    assert (
        context["context_tokens"] <= 60 < context["context_tokens"] + history[77 - kept]["tokens"]
    )


def test_the_system_prompt_reads_context_variables(
    api: httpx.Client, server: SessionsGateway
) -> None:
    session_id = create_session(
        api,
        model="fake-gpt",
        system="You help {{ user.name }}{% if plan %} on the {{ plan }} plan{% endif %}.",
        context={"user": {"name": "Ada"}},
    )
    api.post(f"/api/sessions/{session_id}/messages", json={"message": "hi"})
    assert server.upstream.requests[-1]["messages"][0]["content"] == "You help Ada."
    api.put(f"/api/sessions/{session_id}/context/plan", json={"value": "gold"})
    api.post(f"/api/sessions/{session_id}/messages", json={"message": "hi again"})
    assert (
        server.upstream.requests[-1]["messages"][0]["content"] == "You help Ada on the gold plan."
    )
    broken = api.post("/api/sessions", json={"model": "mock", "system": "Hi {{ user."})
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "invalid_template"
