"""Agent-to-agent messages over real HTTP: send, receive after a cursor, long-poll, stream,
acknowledge; tenants apart; nothing lost across a gateway restart. The shared gateway
runs on PostgreSQL."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import httpx
import pytest

from tests.realtime.shared_gateway import KEY, OTHER_TENANT_KEY, shared_gateway
from tests.support.servers import GatewayProcess


@pytest.fixture(scope="module")
def keyed_gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> GatewayProcess:
    return shared_gateway(request, tmp_path_factory)


def _client(gateway: GatewayProcess, key: str = KEY) -> httpx.Client:
    return httpx.Client(
        base_url=gateway.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )


def _send(client: httpx.Client, to_agent: str, content: Any, **extra: Any) -> dict[str, Any]:
    reply = client.post(
        "/v1/agents/messages",
        json={"from_agent": "planner", "to_agent": to_agent, "content": content, **extra},
    )
    assert reply.status_code == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


def test_send_receive_acknowledge(keyed_gateway: GatewayProcess) -> None:
    with _client(keyed_gateway) as client:
        first = _send(client, "coder", "write the parser", conversation_id="conv-1",
                      metadata={"priority": "high"})
        second = _send(client, "coder", {"task": "tests", "files": ["a.py"]})
        assert first["object"] == "agent.message" and first["id"].startswith("amsg_")
        assert second["sequence"] > first["sequence"]

        inbox = client.get("/v1/agents/coder/messages").json()
        assert [m["id"] for m in inbox["data"]] == [first["id"], second["id"]]
        assert inbox["data"][0]["content"] == "write the parser"
        assert inbox["data"][0]["conversation_id"] == "conv-1"
        assert inbox["data"][0]["metadata"] == {"priority": "high"}
        assert inbox["data"][1]["content"] == {"task": "tests", "files": ["a.py"]}
        assert inbox["next_cursor"] == second["sequence"]

        # after the cursor: nothing new; unacknowledged messages come back on a fresh read
        assert client.get(f"/v1/agents/coder/messages?after={second['sequence']}").json()["data"] == []
        again = client.get("/v1/agents/coder/messages").json()["data"]
        assert [m["delivery_count"] for m in again] == [2, 2]

        acked = client.post("/v1/agents/coder/messages/ack", json={"ids": [first["id"]]}).json()
        assert acked["acknowledged"] == 1
        left = client.get("/v1/agents/coder/messages").json()["data"]
        assert [m["id"] for m in left] == [second["id"]]

        acked = client.post("/v1/agents/coder/messages/ack",
                            json={"up_to": inbox["next_cursor"]}).json()
        assert acked["acknowledged"] == 1
        assert client.get("/v1/agents/coder/messages").json()["data"] == []


def test_ack_by_cursor_never_covers_an_unseen_message(keyed_gateway: GatewayProcess) -> None:
    with _client(keyed_gateway) as client:
        seen = _send(client, "reviewer", "one")
        client.get("/v1/agents/reviewer/messages")
        unseen = _send(client, "reviewer", "two")
        acked = client.post("/v1/agents/reviewer/messages/ack",
                            json={"up_to": unseen["sequence"]}).json()
        assert acked["acknowledged"] == 1  # only the handed-out one
        left = client.get("/v1/agents/reviewer/messages").json()["data"]
        assert [m["id"] for m in left] == [unseen["id"]]
        assert seen["id"] != unseen["id"]


def test_tenants_do_not_see_each_other(keyed_gateway: GatewayProcess) -> None:
    with _client(keyed_gateway) as acme, _client(keyed_gateway, OTHER_TENANT_KEY) as beta:
        _send(acme, "shared-name", "for acme only")
        assert beta.get("/v1/agents/shared-name/messages").json()["data"] == []
        mine = acme.get("/v1/agents/shared-name/messages").json()["data"]
        assert [m["content"] for m in mine] == ["for acme only"]
        assert beta.post("/v1/agents/shared-name/messages/ack",
                         json={"ids": [mine[0]["id"]]}).json()["acknowledged"] == 0


def test_long_poll_wakes_when_a_message_arrives(keyed_gateway: GatewayProcess) -> None:
    results: list[tuple[float, dict[str, Any]]] = []

    def poll() -> None:
        with _client(keyed_gateway) as client:
            started = time.monotonic()
            body = client.get("/v1/agents/waiter/messages?wait=20").json()
            results.append((time.monotonic() - started, body))

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.5)
    with _client(keyed_gateway) as client:
        sent = _send(client, "waiter", "wake up")
    thread.join(25)
    elapsed, body = results[0]
    assert [m["id"] for m in body["data"]] == [sent["id"]]
    assert 0.4 < elapsed < 5


def test_a_long_poll_whose_client_left_takes_nothing(keyed_gateway: GatewayProcess) -> None:
    with socket.create_connection(("127.0.0.1", keyed_gateway.port)) as gone:
        gone.sendall(b"GET /v1/agents/left/messages?wait=20 HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer " + KEY.encode() + b"\r\n\r\n")
        time.sleep(0.3)  # the poll is waiting; then its client goes away
    time.sleep(0.3)
    with _client(keyed_gateway) as client:
        sent = _send(client, "left", "for whoever reads next")
        time.sleep(0.5)  # a poll still running would be woken and take it now
        inbox = client.get("/v1/agents/left/messages").json()["data"]
        assert [(m["id"], m["delivery_count"]) for m in inbox] == [(sent["id"], 1)]


def test_long_poll_times_out_empty(keyed_gateway: GatewayProcess) -> None:
    with _client(keyed_gateway) as client:
        started = time.monotonic()
        body = client.get("/v1/agents/nobody/messages?wait=0.5").json()
        assert body["data"] == [] and time.monotonic() - started >= 0.45


def test_stream_delivers_backlog_then_live(keyed_gateway: GatewayProcess) -> None:
    with _client(keyed_gateway) as client:
        old = _send(client, "streamer", "backlog")
        received: list[dict[str, Any]] = []
        with client.stream("GET", "/v1/agents/streamer/messages/stream") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.iter_lines()
            sent_live = False
            for line in lines:
                if line.startswith("data: "):
                    received.append(httpx.Response(200, content=line[6:]).json())
                    if not sent_live:
                        with _client(keyed_gateway) as other:
                            live = _send(other, "streamer", "live")
                        sent_live = True
                    elif len(received) == 2:
                        break
        assert [m["id"] for m in received] == [old["id"], live["id"]]


def test_bad_requests_are_openai_errors(keyed_gateway: GatewayProcess) -> None:
    with _client(keyed_gateway) as client:
        reply = client.post("/v1/agents/messages", json={"from_agent": "a", "content": "x"})
        assert reply.status_code == 400
        assert reply.json()["error"]["param"] == "to_agent"
        reply = client.get("/v1/agents/x/messages?wait=500")
        assert reply.status_code == 400 and reply.json()["error"]["param"] == "wait"
        reply = client.post("/v1/agents/x/messages/ack", json={})
        assert reply.status_code == 400
        # odd input is a 400 in the same format, never a database error
        for query in ("after=%C2%B2", "after=99999999999999999999", "after=-1"):
            reply = client.get(f"/v1/agents/x/messages?{query}")
            assert reply.status_code == 400, query
            assert reply.json()["error"]["param"] == "after"
        reply = client.get("/v1/agents/x/messages", headers={"Last-Event-ID": "1" * 30})
        assert reply.status_code == 400
        reply = client.post("/v1/agents/x/messages/ack", json={"up_to": 2**70})
        assert reply.status_code == 400 and reply.json()["error"]["param"] == "up_to"
        reply = client.get("/v1/agents/nul%00agent/messages")
        assert reply.status_code == 400 and reply.json()["error"]["param"] == "agent_id"
        reply = client.post("/v1/agents/messages",
                            json={"from_agent": "a\u0000b", "to_agent": "c", "content": "x"})
        assert reply.status_code == 400 and reply.json()["error"]["param"] == "from_agent"
    with _client(keyed_gateway, "sk-wrong-key") as stranger:
        reply = stranger.get("/v1/agents/coder/messages")
        assert reply.status_code == 401
        assert reply.json()["error"]["type"] == "authentication_error"


def test_messages_survive_a_restart(keyed_gateway: GatewayProcess) -> None:
    with _client(keyed_gateway) as client:
        sent = [_send(client, "durable", f"job {n}") for n in range(3)]
        handed = client.get("/v1/agents/durable/messages?limit=1").json()["data"]
        assert [m["id"] for m in handed] == [sent[0]["id"]]  # handed out, not acknowledged
    keyed_gateway.stop()
    keyed_gateway.start()
    with _client(keyed_gateway) as client:
        inbox = client.get("/v1/agents/durable/messages").json()["data"]
        assert [m["content"] for m in inbox] == ["job 0", "job 1", "job 2"]
        assert inbox[0]["delivery_count"] == 2
        acked = client.post("/v1/agents/durable/messages/ack",
                            json={"up_to": inbox[-1]["sequence"]}).json()
        assert acked["acknowledged"] == 3
        newer = _send(client, "durable", "after restart")
        assert newer["sequence"] > sent[-1]["sequence"]
        inbox = client.get("/v1/agents/durable/messages").json()["data"]
        assert [m["content"] for m in inbox] == ["after restart"]
