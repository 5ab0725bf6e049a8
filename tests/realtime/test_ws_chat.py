"""WebSocket chat end to end: many participants, the same ordered events, a slow
consumer cut off, the busy path, keys and tenants."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.realtime.shared_gateway import (
    KEY,
    NO_CALCULATOR_KEY,
    OTHER_TENANT_KEY,
    shared_gateway,
)
from tests.realtime.wsclient import Participant, StalledPeer, turn_over
from tests.support.servers import GatewayProcess


@pytest.fixture(scope="module")
def ws_gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> GatewayProcess:
    return shared_gateway(request, tmp_path_factory)


def _agent_view(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(e["type"], e["sequence"], e.get("index"), e.get("text")) for e in events
            if e["type"] != "user_message"]


def test_three_participants_receive_the_same_ordered_events(ws_gateway: GatewayProcess) -> None:
    people = [Participant(ws_gateway.base_url, "room-1", key=KEY, name=name)
              for name in ("ann", "bob", "cid")]
    try:
        ann, bob, cid = people
        ann.say("the quick brown fox jumps", model="echo", id="m-1")
        seen = {p: p.until(turn_over) for p in people}
        for other in (bob, cid):
            echo = seen[other][0]
            assert echo["type"] == "user_message"
            assert echo["participant"] == "ann" and echo["content"] == "the quick brown fox jumps"
            assert echo["message_id"] == "m-1"
        assert all(e["type"] != "user_message" for e in seen[ann])  # not echoed to its sender

        views = [_agent_view(seen[p]) for p in people]
        assert views[0] == views[1] == views[2]
        kinds = [kind for kind, *_ in views[0]]
        assert kinds[0] == "typing_indicator" and kinds[-1] == "typing_indicator"
        assert kinds[-2] == "agent_response_complete"
        chunks = [e for e in seen[ann] if e["type"] == "agent_response_chunk"]
        assert "".join(c["text"] for c in chunks) == "the quick brown fox jumps"
        assert [c["index"] for c in chunks] == list(range(len(chunks)))
        sequences = [e["sequence"] for e in seen[bob]]
        assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
        complete = next(e for e in seen[cid] if e["type"] == "agent_response_complete")
        assert complete["message"] == {"role": "assistant", "content": "the quick brown fox jumps"}
        assert complete["usage"]["output_tokens"] > 0
        for event in seen[cid]:
            assert event["conversation_id"] == "room-1"
            assert event["id"].startswith("evt_") and event["timestamp"].endswith("Z")
    finally:
        for person in people:
            person.close()


def test_tool_calls_and_results_reach_every_participant(ws_gateway: GatewayProcess) -> None:
    ann = Participant(ws_gateway.base_url, "room-tools", key=KEY, name="ann")
    bob = Participant(ws_gateway.base_url, "room-tools", key=KEY, name="bob")
    try:
        ann.say("What is 5 + 3?", model="mock", tools=["calculator"])
        seen = [ann.until(turn_over), bob.until(turn_over)[1:]]  # bob's first is the echo
        assert _agent_view(seen[0]) == _agent_view(seen[1])
        for events in seen:
            call = next(e for e in events if e["type"] == "tool_call")
            assert call["name"] == "calculator"
            assert json.loads(call["arguments"]) == {"a": 5, "b": 3, "operation": "add"}
            result = next(e for e in events if e["type"] == "tool_result")
            assert result["call_id"] == call["call_id"] and result["output"] == {"result": 8}
            complete = next(e for e in events if e["type"] == "agent_response_complete")
            assert complete["message"]["content"] == "The result is 8."
    finally:
        ann.close()
        bob.close()


def test_history_carries_over_between_turns(ws_gateway: GatewayProcess) -> None:
    person = Participant(ws_gateway.base_url, "room-history", key=KEY)
    try:
        person.say("What is 6 * 7?", model="mock")
        first = person.until(turn_over)
        answer = next(e for e in first if e["type"] == "agent_response_complete")
        assert "42" in answer["message"]["content"]
        person.say("and again", model="mock")
        second = person.until(turn_over)
        complete = next(e for e in second if e["type"] == "agent_response_complete")
        assert complete["usage"]["input_tokens"] > answer["usage"]["input_tokens"]
        # the conversation is a session: the sessions API sees the same history and usage
        session_id = complete["session_id"]
        assert session_id == answer["session_id"]
        headers = {"Authorization": f"Bearer {KEY}"}
        history = httpx.get(f"{ws_gateway.base_url}/api/sessions/{session_id}/messages",
                            headers=headers).json()
        roles = [m["role"] for m in history["data"]]
        assert roles == ["user", "assistant", "user", "assistant"]
        session = httpx.get(f"{ws_gateway.base_url}/api/sessions/{session_id}",
                            headers=headers).json()
        assert session["metadata"]["conversation_id"] == "room-history"
        other = httpx.get(f"{ws_gateway.base_url}/api/sessions/{session_id}",
                          headers={"Authorization": f"Bearer {OTHER_TENANT_KEY}"})
        assert other.status_code == 404
    finally:
        person.close()


def _health(gateway: GatewayProcess) -> dict[str, Any]:
    health: dict[str, Any] = httpx.get(f"{gateway.base_url}/health/ws").json()
    return health


def test_slow_consumer_is_cut_off_while_the_others_continue(ws_gateway: GatewayProcess) -> None:
    fast = [Participant(ws_gateway.base_url, "room-slow", key=KEY, name=n, max_size=None)
            for n in ("f1", "f2")]
    slow = StalledPeer(ws_gateway.port, "/ws/chat/room-slow?participant=slow", KEY)
    dropped_before = _health(ws_gateway)["dropped_slow_consumers"]
    try:
        big = "x" * (2 * 1024 * 1024)  # echoed to the others: fills the kernel's buffers
        health: dict[str, Any] = {}
        for _ in range(6):
            # a model that fails fast: only the echo is big, no turn is stored
            fast[0].say(big, model="no-such-model")
            assert fast[1].until(turn_over)[0]["content"] == big
            fast[0].until(turn_over)
            # a burst of small frames, more than a send queue holds: the slow one's queue
            # fills once its socket is stuck; the others' writers keep up with it
            for _ in range(40):
                fast[0].send(type="typing_indicator", typing=True)
            for _ in range(40):
                assert fast[1].next(timeout=5)["participant"] == "f1"
            health = _health(ws_gateway)
            if health["dropped_slow_consumers"] > dropped_before:
                break
        assert health["dropped_slow_consumers"] == dropped_before + 1
        assert health["conversations"] >= 1 and health["queued_frames"] >= 0
        assert slow.close_code() == 4429
        # the conversation goes on for the others, the slow one is gone from the room
        fast[1].say("still here", model="echo")
        events = fast[0].until(turn_over)
        assert events[0]["participant"] == "f2"
        assert any(e.get("text") == "here" for e in events)
    finally:
        for person in fast:
            person.close()
        slow.close()


def test_full_turn_queue_answers_busy_at_once(ws_gateway: GatewayProcess) -> None:
    person = Participant(ws_gateway.base_url, "room-busy", key=KEY)
    try:
        person.say("one two three four five six seven eight", model="slow-echo", id="first")
        person.until(lambda e: e["type"] == "typing_indicator" and e["typing"] is True)
        person.say("second", model="slow-echo", id="second")  # waits in the queue
        started = time.monotonic()
        person.say("third", model="slow-echo", id="third")  # no room left
        busy = person.until(lambda e: e["type"] == "error")[-1]
        assert time.monotonic() - started < 0.5
        assert busy["code"] == "busy" and busy["reply_to"] == "third"
        done = 0
        while done < 2:  # both accepted turns still finish
            events = person.until(turn_over, timeout=20)
            done += 1
            assert any(e["type"] == "agent_response_complete" for e in events)
        health = httpx.get(f"{ws_gateway.base_url}/health/ws").json()
        assert health["turns_queued"] == 0 and health["queue_capacity"] == 1
    finally:
        person.close()


def test_bad_key_closes_with_4401_and_query_key_works(ws_gateway: GatewayProcess) -> None:
    stranger = Participant(ws_gateway.base_url, "room-auth", key="sk-wrong")
    with pytest.raises(ConnectionClosed) as closed:
        stranger.connection.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    nobody = Participant(ws_gateway.base_url, "room-auth")
    with pytest.raises(ConnectionClosed) as closed:
        nobody.connection.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    browser = Participant(ws_gateway.base_url, "room-auth", key=KEY, query_key=True)
    try:
        browser.send(type="ping", id="p1")
        pong = browser.next()
        assert pong["type"] == "pong" and pong["reply_to"] == "p1"
        assert KEY not in ws_gateway.logs()  # uvicorn logs the path: not the key in it
    finally:
        browser.close()


def test_tenants_never_share_a_conversation(ws_gateway: GatewayProcess) -> None:
    acme = Participant(ws_gateway.base_url, "same-name", key=KEY)
    beta = Participant(ws_gateway.base_url, "same-name", key=OTHER_TENANT_KEY)
    try:
        acme.say("acme secret", model="echo")
        acme.until(turn_over)
        beta.send(type="ping", id="after")
        assert beta.next()["type"] == "pong"  # nothing of acme's came before it
    finally:
        acme.close()
        beta.close()


def test_bad_messages_get_an_error_and_the_connection_stays(ws_gateway: GatewayProcess) -> None:
    person = Participant(ws_gateway.base_url, "room-bad", key=KEY)
    try:
        person.connection.send("not json")
        assert person.next()["code"] == "bad_message"
        person.send(type="user_message", content="")
        assert person.next()["code"] == "bad_message"
        person.send(type="dance")
        assert person.next()["code"] == "bad_message"
        person.say("hello", model="no-such-model")
        events = person.until(turn_over)
        error = next(e for e in events if e["type"] == "error")
        assert error["code"] == "model_not_found"
        person.say("hello", model="m" * 300)
        events = person.until(turn_over)
        error = next(e for e in events if e["type"] == "error")
        assert error["code"] == "bad_message" and "model" in error["message"]
    finally:
        person.close()


def test_typing_indicator_reaches_the_others(ws_gateway: GatewayProcess) -> None:
    ann = Participant(ws_gateway.base_url, "room-typing", key=KEY, name="ann")
    bob = Participant(ws_gateway.base_url, "room-typing", key=KEY, name="bob")
    impostor = Participant(ws_gateway.base_url, "room-typing", key=KEY, name="Agent")
    try:
        ann.send(type="typing_indicator", typing=True)
        event = bob.next()
        assert event["type"] == "typing_indicator" and "origin" not in event
        assert event["participant"] == "ann" and event["typing"] is True
        # nobody can pose as the agent (clients end a turn on the agent's typing=false)
        impostor.send(type="typing_indicator", typing=False)
        event = bob.next()
        assert event["participant"].startswith("user-") and not turn_over(event)
    finally:
        for person in (ann, bob, impostor):
            person.close()


def test_tools_named_on_a_later_message_apply_to_its_turn(ws_gateway: GatewayProcess) -> None:
    person = Participant(ws_gateway.base_url, "room-later-tools", key=KEY)
    headers = {"Authorization": f"Bearer {KEY}"}
    try:
        person.say("hello", model="mock")  # the session starts without tools
        first = person.until(turn_over)
        assert not any(e["type"] == "tool_call" for e in first)
        session_id = next(e for e in first if e["type"] == "agent_response_complete")["session_id"]

        person.say("What is 5 + 3?", model="mock", tools=["calculator"])
        second = person.until(turn_over)
        call = next(e for e in second if e["type"] == "tool_call")
        assert call["name"] == "calculator"
        assert next(e for e in second if e["type"] == "tool_result")["output"] == {"result": 8}
        session = httpx.get(f"{ws_gateway.base_url}/api/sessions/{session_id}",
                            headers=headers).json()
        assert session["tools"] == ["calculator"]  # the sessions API sees the same tools

        person.say("What is 5 + 3?", model="mock", tools=[])  # and takes them away again
        third = person.until(turn_over)
        assert not any(e["type"] == "tool_call" for e in third)
        assert any(e["type"] == "agent_response_complete" for e in third)
    finally:
        person.close()


def test_a_keys_tool_policy_holds_over_websocket(ws_gateway: GatewayProcess) -> None:
    person = Participant(ws_gateway.base_url, "room-policy", key=NO_CALCULATOR_KEY)
    try:
        person.say("What is 5 + 3?", model="mock", tools=["calculator"])
        events = person.until(turn_over)
        error = next(e for e in events if e["type"] == "error")
        assert error["code"] == "forbidden" and "calculator" in error["message"]
        assert not any(e["type"] in ("tool_call", "tool_result") for e in events)
        person.say("What is 5 + 3?", model="mock", tools=["no_such_tool"])
        error = next(e for e in person.until(turn_over) if e["type"] == "error")
        assert error["code"] == "not_found"
        person.say("hello", model="mock")  # without tools the conversation starts
        started = person.until(turn_over)
        assert any(e["type"] == "agent_response_complete" for e in started)
        person.say("What is 5 + 3?", model="mock", tools=["calculator"])  # and stays without
        events = person.until(turn_over)
        assert next(e for e in events if e["type"] == "error")["code"] == "forbidden"
    finally:
        person.close()
