"""Twenty clients post to one session at once: turns run one after the other, in order,
nothing lost, never interleaved (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.sessions import ACME, SessionsGateway, SSEReader, create_session, history_of

CLIENTS = 20


async def _post_all(base_url: str, session_id: str) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base_url, headers=ACME, timeout=60) as client:

        async def post(n: int) -> httpx.Response:
            body = {"message": f"client {n} says w1 w2 w3 w4", "stream": n % 2 == 0}
            return await client.post(f"/api/sessions/{session_id}/messages", json=body)

        return await asyncio.gather(*(post(n) for n in range(CLIENTS)))


def test_twenty_clients_on_one_session(api: httpx.Client, server: SessionsGateway) -> None:
    session_id = create_session(api, model="slow-echo")
    with SSEReader(f"{server.base_url}/api/sessions/{session_id}/stream", ACME) as stream:
        assert stream.next() is not None  # welcome
        replies = asyncio.run(_post_all(server.base_url, session_id))
        events = stream.until(lambda e: e.name == "message.completed" and e.data["turn"] == CLIENTS)
    assert [reply.status_code for reply in replies] == [200] * CLIENTS
    history = history_of(api, session_id)

    assert [m["seq"] for m in history] == list(range(1, 2 * CLIENTS + 1))
    assert [m["role"] for m in history] == ["user", "assistant"] * CLIENTS
    assert [m["turn"] for m in history] == [n // 2 + 1 for n in range(2 * CLIENTS)]
    for user, assistant in zip(history[::2], history[1::2], strict=True):
        assert assistant["content"] == user["content"]  # each answer follows its own question
    sent = {f"client {n} says w1 w2 w3 w4" for n in range(CLIENTS)}
    assert {m["content"] for m in history[::2]} == sent
    # every turn saw every earlier one: the prompt grew turn by turn
    prompts = [m["usage"]["input_tokens"] for m in history[1::2]]
    assert prompts == sorted(prompts) and len(set(prompts)) == CLIENTS

    # the live stream shows each turn whole: its events sit between its start and its end
    current = None
    for event in events:
        if event.name == "message":
            assert current is None, "a turn started before the previous one completed"
            current = event.data["turn"]
        else:
            assert event.data["turn"] == current
            if event.name == "message.completed":
                current = None
    assert current is None
