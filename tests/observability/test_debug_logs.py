"""At `log_level: debug` no credential and no message text reaches the log: uvicorn's
WebSocket handshake and frames, the database driver's statements, the standard library's
records from any library."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import httpx
import pytest

from relaygate.observability.logging import RedactSecrets
from tests.realtime.wsclient import Participant, turn_over
from tests.support.servers import GatewayProcess, run_gateway

KEY = "sk-debug-secret-key-7f3a9c"
CONFIG = {
    "server": {"log_level": "debug"},
    "providers": {"mock": {"type": "mock"}},
    "models": [{"name": "echo", "provider": "mock"}],
    "keys": [{"tenant": "acme", "key": KEY}],
}
BEARER = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with run_gateway(tmp_path_factory.mktemp("debug-logs"), CONFIG) as process:  # SQLite
        yield process


def _logs_since(gateway: GatewayProcess, start: int) -> str:
    """What the gateway logged after `start` (a length of its log), once it settled."""
    time.sleep(0.5)  # the last lines are written as the connections end
    return gateway.logs()[start:]


def test_websocket_handshake_and_frames_stay_out_of_the_log(gateway: GatewayProcess) -> None:
    start = len(gateway.logs())
    peer = Participant(gateway.base_url, "room-debug", key=KEY, name="ann")
    try:
        peer.say("walrus-websocket-payload", model="echo")
        events = peer.until(turn_over)
        assert any(e["type"] == "agent_response_complete" for e in events)
    finally:
        peer.close()
    logs = _logs_since(gateway, start)
    assert '"WebSocket /ws/chat/room-debug?participant=ann" [accepted]' in logs  # INFO stays
    assert KEY not in logs
    assert "walrus-websocket-payload" not in logs


def test_http_keys_and_bodies_stay_out_of_the_log(gateway: GatewayProcess) -> None:
    start = len(gateway.logs())
    chat = httpx.post(
        f"{gateway.base_url}/v1/chat/completions",
        headers=BEARER,
        json={"model": "echo", "messages": [{"role": "user", "content": "heron-chat-payload"}]},
    )
    assert chat.status_code == 200
    messages = httpx.post(
        f"{gateway.base_url}/v1/messages",
        headers={"x-api-key": KEY},
        json={
            "model": "echo",
            "max_tokens": 16,
            "messages": [{"role": "user", "content": "heron-messages-payload"}],
        },
    )
    assert messages.status_code == 200
    gemini = httpx.post(
        f"{gateway.base_url}/v1beta/models/echo:generateContent",
        params={"key": KEY},
        json={"contents": [{"role": "user", "parts": [{"text": "heron-gemini-payload"}]}]},
    )
    assert gemini.status_code == 200
    logs = _logs_since(gateway, start)
    assert KEY not in logs
    assert "heron-" not in logs


def test_a_session_turn_leaves_no_message_text_in_the_log(gateway: GatewayProcess) -> None:
    start = len(gateway.logs())
    with httpx.Client(base_url=gateway.base_url, headers=BEARER, timeout=20) as api:
        session = api.post("/api/sessions", json={"model": "echo"})
        assert session.status_code == 200
        turn = api.post(
            f"/api/sessions/{session.json()['id']}/messages",
            json={"message": "quokka-session-payload"},
        )
        assert turn.status_code == 200
        assert "quokka-session-payload" in turn.text  # echoed back, and stored
    logs = _logs_since(gateway, start)
    assert '"path":"/api/sessions' in logs  # the request lines are there
    assert "quokka-session-payload" not in logs
    assert KEY not in logs


@pytest.mark.parametrize(
    ("message", "args", "expected"),
    [
        ("< %s: %s", ("authorization", f"Bearer {KEY}"), "< authorization: ***"),
        (
            "headers %r",
            ({"x-api-key": KEY, "accept": "*/*"},),
            "headers {'x-api-key': '***', 'accept': '*/*'}",
        ),
        ("X-Goog-Api-Key=%s", (KEY,), "X-Goog-Api-Key=***"),
        ("token Bearer %s sent", (KEY,), "token Bearer *** sent"),
        (
            '"GET /ws/chat/r?api_key=%s&participant=a"',
            (KEY,),
            '"GET /ws/chat/r?api_key=***&participant=a"',
        ),
        ("nothing to hide %d", (3,), "nothing to hide 3"),
    ],
)
def test_any_record_goes_out_with_its_credentials_blanked(
    message: str, args: tuple[object, ...], expected: str
) -> None:
    record = logging.LogRecord("some.library", logging.WARNING, __file__, 1, message, args, None)
    assert RedactSecrets().filter(record) is True
    assert record.getMessage() == expected
