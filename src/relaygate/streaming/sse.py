"""Server-Sent Events: framing outgoing events and parsing an upstream's stream."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from relaygate.errors import MalformedStream

DONE = b"data: [DONE]\n\n"


def data_frame(payload: Any) -> bytes:
    """`data: <json>\n\n` for one event."""
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def event_frame(event: str, payload: Any, event_id: str | int | None = None) -> bytes:
    """`event: <name>` + `data:` (+ `id:`) for one named event."""
    head = b"" if event_id is None else b"id: " + str(event_id).encode() + b"\n"
    return head + b"event: " + event.encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"


@dataclass(slots=True)
class ServerSentEvent:
    data: str
    event: str | None = None
    id: str | None = None


class SSEParser:
    """Incremental parser: feed bytes, get complete events (WHATWG rules, simplified).

    A line that is not UTF-8 raises MalformedStream (an UpstreamError: every front renders
    it, as a 502 before the first byte and as its error event mid-stream)."""

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        self._buffer += chunk
        events: list[ServerSentEvent] = []
        while True:
            newline = self._buffer.find(b"\n")
            if newline < 0:
                return events
            try:
                line = self._buffer[:newline].rstrip(b"\r").decode("utf-8")
            except UnicodeDecodeError as exc:
                raise MalformedStream(
                    "The upstream sent a malformed stream: a line is not UTF-8."
                ) from exc
            self._buffer = self._buffer[newline + 1 :]
            if not line:
                if self._data:
                    events.append(ServerSentEvent("\n".join(self._data), self._event, self._id))
                self._data, self._event = [], None
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                self._data.append(value)
            elif name == "event":
                self._event = value
            elif name == "id":
                self._id = value

    def close(self) -> list[ServerSentEvent]:
        """Flush an event left without its blank line at the end of the stream."""
        events = self.feed(b"\n\n") if self._buffer or self._data else []
        return events
