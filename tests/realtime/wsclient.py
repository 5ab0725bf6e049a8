"""A small synchronous WebSocket participant for tests (the `websockets` library)."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

from websockets.sync.client import ClientConnection, connect

Event = dict[str, Any]


class Participant:
    def __init__(self, base_url: str, conversation_id: str, *, key: str | None = None,
                 name: str | None = None, query_key: bool = False, **options: Any) -> None:
        url = base_url.replace("http://", "ws://") + f"/ws/chat/{conversation_id}"
        params = []
        if name:
            params.append(f"participant={name}")
        headers = {}
        if key and query_key:
            params.append(f"api_key={key}")
        elif key:
            headers["Authorization"] = f"Bearer {key}"
        if params:
            url += "?" + "&".join(params)
        self.connection: ClientConnection = connect(url, additional_headers=headers,
                                                    open_timeout=10, **options)
        self.events: list[Event] = []

    def send(self, **message: Any) -> None:
        self.connection.send(json.dumps(message))

    def say(self, content: str, **extra: Any) -> None:
        self.send(type="user_message", content=content, **extra)

    def next(self, timeout: float = 10.0) -> Event:
        """The next event other than the server's ping (answered with pong)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            event: Event = json.loads(self.connection.recv(timeout=max(remaining, 0.01)))
            if event["type"] == "ping":
                self.send(type="pong")
                continue
            self.events.append(event)
            return event

    def until(self, done: Callable[[Event], bool], timeout: float = 15.0) -> list[Event]:
        """Events up to and including the first for which `done` is true."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            event = self.next(max(deadline - time.monotonic(), 0.01))
            seen.append(event)
            if done(event):
                return seen

    def close(self) -> None:
        self.connection.close()


def turn_over(event: Event) -> bool:
    return event["type"] == "typing_indicator" and event["participant"] == "agent" \
        and event["typing"] is False


class StalledPeer:
    """A raw WebSocket client that completes the handshake and then reads nothing until
    asked: the kernel's small receive buffer fills and the server must cope."""

    def __init__(self, port: int, path: str, key: str) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        nonce = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {nonce}\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {key}\r\n\r\n".encode()
        )
        self._buffer = b""
        while b"\r\n\r\n" not in self._buffer:
            self._buffer += self.sock.recv(1)
        assert b" 101 " in self._buffer.split(b"\r\n", 1)[0]
        self._buffer = b""

    def _read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection ended without a close frame")
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def close_code(self, timeout: float = 10.0) -> int:
        """Read (and discard) frames until the server's close frame; its code."""
        self.sock.settimeout(timeout)
        while True:
            head = self._read(2)
            opcode, length = head[0] & 0x0F, head[1] & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(length)
            if opcode == 0x8:
                code: int = struct.unpack("!H", payload[:2])[0]
                return code

    def close(self) -> None:
        self.sock.close()
