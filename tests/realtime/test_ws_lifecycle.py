"""Heartbeat, turn time limit, shutdown, and a conversation spread over two instances
(sharing Redis and one database), on gateways with short intervals."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.realtime.wsclient import Participant, turn_over
from tests.support.servers import GatewayProcess, run_gateway

REDIS_URL = os.environ.get("RELAYGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _config(database: Path, **realtime: float) -> dict[str, Any]:
    return {
        "providers": {"mock": {"type": "mock"},
                      "slowmock": {"type": "mock", "stream_delay_ms": 300}},
        "models": [
            {"name": "echo", "provider": "mock"},
            {"name": "slow-echo", "provider": "slowmock", "model": "echo"},
        ],
        "storage": {"database_url": f"sqlite+aiosqlite:///{database}", "redis_url": REDIS_URL},
        "realtime": realtime,
    }


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[GatewayProcess]]:
    """Two gateway instances on one database and one Redis; the second with short
    heartbeat and turn time limits."""
    root = tmp_path_factory.mktemp("instances")
    (root / "one").mkdir()
    (root / "two").mkdir()
    short = _config(root / "shared.db", ping_interval_seconds=0.3, idle_timeout_seconds=1.5,
                    turn_timeout_seconds=1.8)  # slow-echo's 8 words take 2.4 s; a busy
    # machine's first turn on an instance (its agent services start then) has taken over 1 s
    with run_gateway(root / "one", _config(root / "shared.db")) as one, \
            run_gateway(root / "two", short) as two:
        yield [one, two]


def _agent_events(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(e["type"], e.get("index"), e.get("text"), e.get("turn_id")) for e in events
            if e["type"] != "user_message"]


def test_a_conversation_spans_two_instances(instances: list[GatewayProcess]) -> None:
    one, two = instances
    room = f"spread-{uuid.uuid4().hex[:8]}"
    ann = Participant(one.base_url, room, name="ann")
    bob = Participant(two.base_url, room, name="bob")
    try:
        ann.say("hello across instances", model="echo")
        seen_by_ann = ann.until(turn_over)
        seen_by_bob = bob.until(turn_over)
        assert seen_by_bob[0]["type"] == "user_message"
        assert seen_by_bob[0]["participant"] == "ann"
        assert _agent_events(seen_by_ann) == _agent_events(seen_by_bob[1:])
        first = next(e for e in seen_by_bob if e["type"] == "agent_response_complete")
        assert first["message"]["content"] == "hello across instances"

        bob.say("and back again", model="echo")  # this turn runs on the other instance
        second = ann.until(turn_over)
        assert second[0]["participant"] == "bob"
        complete = next(e for e in second if e["type"] == "agent_response_complete")
        assert complete["session_id"] == first["session_id"]  # one session, one history
        seen_by_bob += bob.until(turn_over)
        # each instance numbers its own broadcasts: per origin the numbers only grow
        by_origin: dict[str, list[int]] = {}
        for event in seen_by_bob:
            by_origin.setdefault(event["origin"], []).append(event["sequence"])
        assert len(by_origin) == 2
        for numbers in by_origin.values():
            assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
        history = httpx.get(
            f"{one.base_url}/api/sessions/{first['session_id']}/messages"
        ).json()["data"]
        assert [m["content"] for m in history] == [
            "hello across instances", "hello across instances",
            "and back again", "and back again",
        ]
    finally:
        ann.close()
        bob.close()


def test_heartbeat_timeout_and_graceful_shutdown(instances: list[GatewayProcess]) -> None:
    gateway = instances[1]  # stopped at the end: this test runs last
    room = f"beat-{uuid.uuid4().hex[:8]}"
    lively = Participant(gateway.base_url, room)  # answers every ping with pong
    silent = Participant(gateway.base_url, room)
    started = time.monotonic()
    pings = 0
    while pings < 3:
        event = json.loads(lively.connection.recv(timeout=2))
        if event["type"] == "ping":
            pings += 1
            lively.send(type="pong")
    assert time.monotonic() - started < 2.5  # the server pings every 0.3 s
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            silent.connection.recv(timeout=5)  # reads, but never answers
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408
    assert time.monotonic() - started < 3.5

    # a turn past its time limit is stopped and every participant is told
    lively.say("one two three four five six seven eight", model="slow-echo")
    events = lively.until(turn_over, timeout=10)
    error = next(e for e in events if e["type"] == "error")
    assert error["code"] == "timeout"
    health = httpx.get(f"{gateway.base_url}/health/ws").json()
    assert health["connections"] == 1 and health["dropped_idle"] == 1

    gateway.stop()
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            lively.connection.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code in (1001, 1012)
