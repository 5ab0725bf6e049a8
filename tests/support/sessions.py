"""Helpers for the sessions tests: a JSON client and an SSE reader on a background thread."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from relaygate.agents.tools.base import ToolContext
from tests.support.fake_openai import FakeOpenAI
from tests.support.servers import GatewayProcess

ACME = {"Authorization": "Bearer key-acme"}
BETA = {"Authorization": "Bearer key-beta"}


@dataclass
class Event:
    name: str
    data: Any
    id: str | None


@dataclass
class SSEReader:
    """Reads `GET {url}` as Server-Sent Events into `events` until closed or the server ends."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    events: queue.Queue[Event | None] = field(default_factory=queue.Queue)
    comments: list[str] = field(default_factory=list)
    retry: int | None = None
    status: int | None = None
    _client: httpx.Client | None = None
    _thread: threading.Thread | None = None
    _connected: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> SSEReader:
        self._client = httpx.Client(timeout=httpx.Timeout(30.0, read=60.0))
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._connected.wait(10):
            raise TimeoutError(f"no answer from {self.url}")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._client is not None
        self._client.close()

    def _run(self) -> None:
        assert self._client is not None
        try:
            with self._client.stream("GET", self.url, headers=self.headers) as response:
                self.status = response.status_code
                self._connected.set()
                name, event_id = "message", None
                data: list[str] = []
                for line in response.iter_lines():
                    if line == "":
                        if data:
                            self.events.put(Event(name, json.loads("\n".join(data)), event_id))
                        name, data = "message", []
                    elif line.startswith(":"):
                        self.comments.append(line)
                    else:
                        key, _, value = line.partition(":")
                        value = value.removeprefix(" ")
                        if key == "event":
                            name = value
                        elif key == "data":
                            data.append(value)
                        elif key == "id":
                            event_id = value
                        elif key == "retry":
                            self.retry = int(value)
        except httpx.HTTPError:
            pass
        finally:
            self._connected.set()
            self.events.put(None)

    def next(self, timeout: float = 10.0) -> Event | None:
        return self.events.get(timeout=timeout)

    def until(self, done: Callable[[Event], bool], timeout: float = 10.0) -> list[Event]:
        """Every event up to and including the first that satisfies `done`."""
        seen: list[Event] = []
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(deadline - time.monotonic(), 0.01))
            if event is None:
                raise AssertionError(f"stream ended before the expected event; saw {seen}")
            seen.append(event)
            if done(event):
                return seen

    def rest(self, timeout: float = 10.0) -> list[Event]:
        """Every event until the server ends the stream."""
        seen: list[Event] = []
        while (event := self.events.get(timeout=timeout)) is not None:
            seen.append(event)
        return seen


def completed(event: Event) -> bool:
    return event.name in ("message.completed", "error")


def sse_events(response: httpx.Response) -> list[Event]:
    """Parse a whole (finished) SSE response body."""
    events = []
    for block in response.text.split("\n\n"):
        name, data, event_id = "message", [], None
        for line in block.splitlines():
            key, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if key == "event":
                name = value
            elif key == "data":
                data.append(value)
            elif key == "id":
                event_id = value
        if data:
            events.append(Event(name, json.loads("\n".join(data)), event_id))
    return events


@dataclass
class SessionsGateway:
    process: GatewayProcess
    upstream: FakeOpenAI

    @property
    def base_url(self) -> str:
        return self.process.base_url


def create_session(api: httpx.Client, **body: Any) -> str:
    reply = api.post("/api/sessions", json={"model": "mock", **body})
    assert reply.status_code == 200, reply.text
    session_id: str = reply.json()["session_id"]
    return session_id


def history_of(api: httpx.Client, session_id: str) -> list[dict[str, Any]]:
    reply = api.get(f"/api/sessions/{session_id}/messages", params={"limit": 1000})
    assert reply.status_code == 200, reply.text
    data: list[dict[str, Any]] = reply.json()["data"]
    return data


async def context_variables(context: ToolContext) -> dict[str, Any]:
    """A custom gateway tool for the tests: the session's context variables, as it sees them."""
    return {"session_id": context.session_id, "variables": dict(context.variables)}
