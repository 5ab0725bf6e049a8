"""The sessions API end to end on a real port, on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.support.sessions import (
    ACME,
    BETA,
    SessionsGateway,
    SSEReader,
    completed,
    create_session,
    history_of,
    sse_events,
)


def _error(reply: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = reply.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def test_basic_flow(api: httpx.Client, server: SessionsGateway) -> None:
    created = api.post("/api/sessions", json={"model": "mock", "system": "Be brief."}).json()
    assert created["model"] == "mock" and created["expires_at"] > created["created_at"]
    session_id = created["session_id"]
    with SSEReader(f"{server.base_url}/api/sessions/{session_id}/stream", ACME) as stream:
        welcome = stream.next()
        assert welcome is not None and welcome.name == "message"
        assert welcome.data["type"] == "welcome" and welcome.data["session_id"] == session_id
        reply = api.post(
            f"/api/sessions/{session_id}/messages", json={"message": "Calculate 5 + 3"}
        )
        assert reply.status_code == 200, reply.text
        assert reply.json()["message"]["content"] == "5 + 3 = 8"
        events = stream.until(completed)
    names = [event.name for event in events]
    assert names[0] == "message" and names[-1] == "message.completed"
    assert events[0].data["message"]["content"] == [{"type": "text", "text": "Calculate 5 + 3"}]
    assert "".join(e.data["text"] for e in events if e.name == "chunk") == "5 + 3 = 8"
    assert events[-1].data["message"]["content"] == "5 + 3 = 8"
    history = history_of(api, session_id)
    assert [(m["role"], m["content"]) for m in history] == [
        ("user", "Calculate 5 + 3"),
        ("assistant", "5 + 3 = 8"),
    ]
    assert all(m["tokens"] > 0 for m in history)
    assert history[1]["usage"]["output_tokens"] > 0


def test_streamed_turn_sends_session_events(api: httpx.Client) -> None:
    session_id = create_session(api, model="echo")
    reply = api.post(
        f"/api/sessions/{session_id}/messages",
        json={"message": "one two three four", "stream": True},
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    events = sse_events(reply)
    assert [e.name for e in events] == [
        "message",
        "chunk",
        "chunk",
        "chunk",
        "chunk",
        "message.completed",
    ]
    chunks = [e.data for e in events if e.name == "chunk"]
    assert [c["index"] for c in chunks] == [0, 1, 2, 3]
    assert "".join(c["text"] for c in chunks) == "one two three four"
    sequences = [int(str(e.id).rsplit("-", 1)[1]) for e in events]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    assert events[-1].data["message"]["content"] == "one two three four"
    assert [m["content"] for m in history_of(api, session_id)] == ["one two three four"] * 2


def test_resume_with_last_event_id_replays_what_was_missed(
    api: httpx.Client, server: SessionsGateway
) -> None:
    session_id = create_session(api, model="echo")
    url = f"{server.base_url}/api/sessions/{session_id}/stream"
    with SSEReader(url, ACME) as stream:
        assert stream.next() is not None  # welcome
        api.post(f"/api/sessions/{session_id}/messages", json={"message": "first turn"})
        first = stream.until(completed)
    last_seen = first[-1].id
    assert last_seen is not None
    # while nobody listens, two more turns happen
    api.post(f"/api/sessions/{session_id}/messages", json={"message": "second turn"})
    api.post(f"/api/sessions/{session_id}/messages", json={"message": "third turn"})
    with SSEReader(url, {**ACME, "Last-Event-ID": last_seen}) as stream:
        welcome = stream.next()
        assert welcome is not None and welcome.data["resumed"] is True
        missed = stream.until(lambda e: completed(e) and e.data["turn"] == 3)
    replayed = [e.data["message"]["content"] for e in missed if e.name == "message.completed"]
    assert replayed == ["second turn", "third turn"]
    sequences = [int(str(e.id).rsplit("-", 1)[1]) for e in missed]
    assert sequences[0] == int(last_seen.rsplit("-", 1)[1]) + 1
    assert sequences == list(range(sequences[0], sequences[0] + len(missed)))


def test_a_client_dropped_after_the_resume_welcome_misses_nothing(
    api: httpx.Client, server: SessionsGateway
) -> None:
    """The welcome of a resumed stream carries the id the client resumed from (never one
    beyond what it has delivered): reconnecting with it replays the same events."""
    session_id = create_session(api, model="echo")
    url = f"{server.base_url}/api/sessions/{session_id}/stream"
    with SSEReader(url, ACME) as stream:
        assert stream.next() is not None  # welcome
        api.post(f"/api/sessions/{session_id}/messages", json={"message": "first turn"})
        last_seen = stream.until(completed)[-1].id
    assert last_seen is not None
    api.post(f"/api/sessions/{session_id}/messages", json={"message": "second turn"})
    with SSEReader(url, {**ACME, "Last-Event-ID": last_seen}) as stream:
        welcome = stream.next()  # and the client drops right after it
    assert welcome is not None and welcome.data["resumed"] is True
    assert welcome.id == last_seen
    with SSEReader(url, {**ACME, "Last-Event-ID": welcome.id}) as stream:
        assert stream.next() is not None  # welcome
        missed = stream.until(completed)
    assert [e.data["message"]["content"] for e in missed if completed(e)] == ["second turn"]


def test_idle_stream_gets_retry_hint_and_keepalives(
    api: httpx.Client, server: SessionsGateway
) -> None:
    session_id = create_session(api)
    with SSEReader(f"{server.base_url}/api/sessions/{session_id}/stream", ACME) as stream:
        welcome = stream.next()
        assert welcome is not None and welcome.id is not None
        time.sleep(1.0)
        assert stream.retry == 3000
        assert len(stream.comments) >= 2 and stream.comments[0].startswith(": keep-alive")


def test_tenants_never_see_each_other(api: httpx.Client, server: SessionsGateway) -> None:
    session_id = create_session(api, metadata={"owner": "acme"})
    api.put(f"/api/sessions/{session_id}/context/secret", json={"value": 42})
    api.post(f"/api/sessions/{session_id}/messages", json={"message": "private"})
    with httpx.Client(base_url=server.base_url, headers=BETA, timeout=10) as beta:
        base = f"/api/sessions/{session_id}"
        attempts = [
            beta.get(base),
            beta.get(f"{base}/messages"),
            beta.get(f"{base}/usage"),
            beta.get(f"{base}/context"),
            beta.get(f"{base}/context/secret"),
            beta.put(f"{base}/context/secret", json={"value": 0}),
            beta.delete(f"{base}/context/secret"),
            beta.post(f"{base}/messages", json={"message": "let me in"}),
            beta.get(f"{base}/stream"),
            beta.delete(base),
        ]
        for reply in attempts:
            assert reply.status_code == 404, (reply.request.method, reply.request.url, reply.text)
            assert _error(reply)["code"] == "session_not_found"
        listed = beta.get("/api/sessions").json()["data"]
        assert session_id not in {item["id"] for item in listed}
        assert beta.get("/api/sessions", params={"metadata[owner]": "acme"}).json()["data"] == []
    assert api.get(f"/api/sessions/{session_id}/context/secret").json()["value"] == 42
    assert history_of(api, session_id)[0]["content"] == "private"
    assert len(history_of(api, session_id)) == 2
    without_key = httpx.get(f"{server.base_url}/api/sessions/{session_id}")
    assert without_key.status_code == 401


BAD_MESSAGES: list[tuple[Any, int, str | None, str | None]] = [
    ({"message": "x" * 3000}, 413, "message_too_large", "message"),
    ({"message": "hi", "model": "echo"}, 400, "model_not_allowed", "model"),
    ({"message": "hi", "model": "no-such-model"}, 400, "model_not_allowed", "model"),
    ({}, 400, None, "message"),
    ({"message": "hi", "content": "hi"}, 400, None, "content"),
    ({"message": ""}, 400, "empty_message", "message"),
    ({"message": 5}, 400, "invalid_value", "message"),
    ({"message": "hi", "stream": "yes"}, 400, "invalid_value", "stream"),
    ({"message": "hi", "temperature": 1}, 400, None, "temperature"),
    (
        {"content": [{"type": "input_audio", "input_audio": {"data": "AA==", "format": "wav"}}]},
        422,
        "unsupported_content",
        "content[0]",
    ),
    ([1, 2], 400, "invalid_json", None),
]


@pytest.mark.parametrize(("body", "status", "code", "param"), BAD_MESSAGES)
def test_bad_messages_are_refused_and_nothing_is_appended(
    api: httpx.Client, body: Any, status: int, code: str | None, param: str | None
) -> None:
    session_id = create_session(api)
    api.post(f"/api/sessions/{session_id}/messages", json={"message": "hello"})
    reply = api.post(f"/api/sessions/{session_id}/messages", json=body)
    assert reply.status_code == status, reply.text
    error = _error(reply)
    assert error["code"] == code and error["param"] == param
    assert error["message"]
    assert len(history_of(api, session_id)) == 2
    assert api.get(f"/api/sessions/{session_id}/usage").json()["turns"] == 1


def test_malformed_json_and_unknown_session(api: httpx.Client) -> None:
    session_id = create_session(api)
    broken = api.post(
        f"/api/sessions/{session_id}/messages",
        content=b'{"message": "hi"',
        headers={"content-type": "application/json"},
    )
    assert broken.status_code == 400 and _error(broken)["code"] == "invalid_json"
    unknown = api.post("/api/sessions/sess_unknown/messages", json={"message": "hi"})
    assert unknown.status_code == 404 and _error(unknown)["code"] == "session_not_found"
    assert "sess_unknown" in _error(unknown)["message"]
    bad_create = api.post("/api/sessions", json={"model": "nope"})
    assert bad_create.status_code == 404 and _error(bad_create)["code"] == "model_not_found"
    bad_ttl = api.post("/api/sessions", json={"model": "mock", "ttl_seconds": 0})
    assert bad_ttl.status_code == 400 and _error(bad_ttl)["param"] == "ttl_seconds"
    assert history_of(api, session_id) == []


def test_allowed_models_let_a_turn_switch_model(api: httpx.Client) -> None:
    session_id = create_session(api, allowed_models=["echo"])
    reply = api.post(
        f"/api/sessions/{session_id}/messages", json={"message": "Calculate 2 + 2", "model": "echo"}
    )
    assert reply.status_code == 200
    assert reply.json()["message"]["content"] == "Calculate 2 + 2"  # echo repeats
    assert reply.json()["message"]["metadata"]["turn"]["model"] == "echo"


def test_ttl_slides_with_use_then_expires(api: httpx.Client, server: SessionsGateway) -> None:
    session_id = create_session(api, ttl_seconds=1)
    for _ in range(3):  # 1.8 s of use keeps a 1 s session alive
        time.sleep(0.6)
        assert api.get(f"/api/sessions/{session_id}").status_code == 200
    with SSEReader(f"{server.base_url}/api/sessions/{session_id}/stream", ACME) as stream:
        assert stream.next() is not None
        ended = stream.rest(timeout=5)  # the sweeper expires it and ends the stream
    assert [e.name for e in ended] == ["error"]
    assert ended[0].data["error"]["code"] == "session_expired"
    for reply in (
        api.get(f"/api/sessions/{session_id}"),
        api.post(f"/api/sessions/{session_id}/messages", json={"message": "still there?"}),
        api.get(f"/api/sessions/{session_id}/messages"),
    ):
        assert reply.status_code == 404
        error = _error(reply)
        assert error["code"] == "session_expired" and "expired" in error["message"]
    assert session_id not in {s["id"] for s in api.get("/api/sessions").json()["data"]}


def test_context_variables(api: httpx.Client) -> None:
    session_id = create_session(api, context={"user": {"name": "Ada"}})
    base = f"/api/sessions/{session_id}/context"
    assert api.get(f"{base}/user").json()["value"] == {"name": "Ada"}
    assert api.put(f"{base}/plan", json={"value": [1, 2, 3]}).status_code == 200
    assert api.put(f"{base}/plan", json={"value": "replaced"}).status_code == 200
    assert api.get(f"{base}/plan").json() == {
        "key": "plan",
        "value": "replaced",
        "updated_at": pytest.approx(time.time(), abs=60),
    }
    assert [item["key"] for item in api.get(base).json()["data"]] == ["plan", "user"]
    assert api.delete(f"{base}/plan").status_code == 200
    missing = api.get(f"{base}/plan")
    assert missing.status_code == 404 and _error(missing)["code"] == "context_key_not_found"
    no_value = api.put(f"{base}/x", json={"val": 1})
    assert no_value.status_code == 400


def test_list_paginates_and_filters_by_metadata(api: httpx.Client) -> None:
    tag = f"run-{time.monotonic_ns()}"
    ids = [create_session(api, metadata={"run": tag, "n": str(n)}) for n in range(5)]
    first = api.get("/api/sessions", params={"metadata[run]": tag, "limit": 2}).json()
    assert [s["id"] for s in first["data"]] == ids[::-1][:2] and first["has_more"] is True
    second = api.get(
        "/api/sessions", params={"metadata[run]": tag, "limit": 2, "after": first["last_id"]}
    ).json()
    assert [s["id"] for s in second["data"]] == ids[::-1][2:4]
    ascending = api.get(
        "/api/sessions", params={"metadata[run]": tag, "order": "asc", "limit": 100}
    ).json()
    assert [s["id"] for s in ascending["data"]] == ids and ascending["has_more"] is False
    one = api.get("/api/sessions", params={"metadata[run]": tag, "metadata[n]": "3"}).json()
    assert [s["id"] for s in one["data"]] == [ids[3]]
    assert api.get("/api/sessions", params={"limit": 0}).status_code == 400
    for bad in ("--5", "ten", "٣", " 5"):  # never a 500, always the parameter named
        refused = api.get("/api/sessions", params={"limit": bad})
        assert refused.status_code == 400, (bad, refused.text)
        assert refused.json()["error"]["param"] == "limit"


def test_usage_counts_tokens_and_cost(api: httpx.Client) -> None:
    session_id = create_session(api, model="priced")
    turns = [
        api.post(f"/api/sessions/{session_id}/messages", json={"message": text}).json()
        for text in ("Calculate 6 * 7", "hello")
    ]
    usage = api.get(f"/api/sessions/{session_id}/usage").json()
    assert usage["turns"] == 2 and usage["messages"] == 4
    assert usage["input_tokens"] == sum(t["usage"]["input_tokens"] for t in turns) > 0
    assert usage["output_tokens"] == sum(t["usage"]["output_tokens"] for t in turns) > 0
    expected = (usage["input_tokens"] * 2.0 + usage["output_tokens"] * 8.0) / 1_000_000
    assert usage["cost_usd"] == pytest.approx(expected)
    history = history_of(api, session_id)
    assert usage["history_tokens"] == sum(m["tokens"] for m in history)
    plain = create_session(api)
    api.post(f"/api/sessions/{plain}/messages", json={"message": "hello"})
    assert api.get(f"/api/sessions/{plain}/usage").json()["cost_usd"] == 0.0  # the mock is free


def test_delete_ends_the_stream_and_forgets_the_session(
    api: httpx.Client, server: SessionsGateway
) -> None:
    session_id = create_session(api)
    with SSEReader(f"{server.base_url}/api/sessions/{session_id}/stream", ACME) as stream:
        assert stream.next() is not None
        assert api.delete(f"/api/sessions/{session_id}").json()["deleted"] is True
        ended = stream.rest(timeout=5)
    assert [e.data["error"]["code"] for e in ended] == ["session_deleted"]
    assert api.get(f"/api/sessions/{session_id}").status_code == 404


def test_bad_last_event_id_is_refused(api: httpx.Client) -> None:
    session_id = create_session(api)
    reply = api.get(f"/api/sessions/{session_id}/stream", headers={"Last-Event-ID": "garbage"})
    assert reply.status_code == 400 and _error(reply)["code"] == "invalid_last_event_id"


def test_a_failed_upstream_call_appends_nothing(api: httpx.Client, server: SessionsGateway) -> None:
    session_id = create_session(api, model="broken")
    with SSEReader(f"{server.base_url}/api/sessions/{session_id}/stream", ACME) as stream:
        assert stream.next() is not None
        reply = api.post(f"/api/sessions/{session_id}/messages", json={"message": "hello"})
        events = stream.until(completed)
    assert reply.status_code == 502, reply.text
    assert _error(reply)["type"] == "upstream_error"
    assert [e.name for e in events] == ["message", "error"]
    assert events[-1].data["error"]["status"] == 502
    streamed = api.post(
        f"/api/sessions/{session_id}/messages", json={"message": "hello", "stream": True}
    )
    assert [e.name for e in sse_events(streamed)] == ["message", "error"]
    assert history_of(api, session_id) == []
    assert api.get(f"/api/sessions/{session_id}/usage").json()["turns"] == 0


def test_a_streamed_turn_completes_when_its_client_leaves(
    api: httpx.Client, server: SessionsGateway
) -> None:
    session_id = create_session(api, model="slow-echo")
    text = "word " * 100
    with httpx.stream(
        "POST",
        f"{server.base_url}/api/sessions/{session_id}/messages",
        json={"message": text, "stream": True},
        headers=ACME,
        timeout=30,
    ) as response:
        for line in response.iter_lines():
            if line.startswith("event: chunk"):
                break  # hang up mid-answer
    deadline = time.monotonic() + 10
    while len(history := history_of(api, session_id)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [m["content"] for m in history] == [text, text]
