"""A deliberately lean OpenAI-compatible upstream for the benchmark.

Raw asyncio protocol on uvloop, HTTP/1.1 keep-alive, fixed pre-built replies: a
`chat.completion` JSON body, or (when the request says `"stream": true`) a chunked
`text/event-stream` with a few content chunks, a finish chunk, a usage chunk and
`[DONE]`; for `POST /v1/embeddings`, an embeddings list (one base64 vector). It does no JSON parsing, so it is never the bottleneck of the measurement.

Run: python bench/fast_upstream.py PORT
"""

from __future__ import annotations

import asyncio
import json
import sys

import uvloop

MODEL = "bench-model"
USAGE = {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21}


def _json_reply() -> bytes:
    body = json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1700000000,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "The quick brown fox jumps."},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": USAGE,
        },
        separators=(",", ":"),
    ).encode()
    return _json_response(body)


def _json_response(body: bytes) -> bytes:
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    return head + body


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}".encode() + b"\r\n" + data + b"\r\n"


def _sse(payload: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def _stream_reply() -> bytes:
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000}
    base["model"] = MODEL

    def delta(content: dict[str, object], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": content, "logprobs": None, "finish_reason": finish}
        return _sse({**base, "choices": [choice]})

    events = [delta({"role": "assistant", "content": ""})]
    events += [delta({"content": word}) for word in ("The ", "quick ", "brown ", "fox ", "jumps.")]
    events.append(delta({}, "stop"))
    events.append(_sse({**base, "choices": [], "usage": USAGE}))
    events.append(b"data: [DONE]\n\n")
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
        b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    return head + b"".join(_chunk(event) for event in events) + b"0\r\n\r\n"


def _embeddings_reply() -> bytes:
    """OpenAI's embeddings list: one input, base64 (the openai SDK's default)."""
    body = json.dumps(
        {
            "object": "list",
            "data": [{"object": "embedding", "index": 0,
                      "embedding": "AACAPwAAAEAAAEBAAACAQAAAoEAAAMBAAADgQAAAAEE="}],
            "model": "bench-embed",
            "usage": {"prompt_tokens": 8, "total_tokens": 8},
        },
        separators=(",", ":"),
    ).encode()
    return _json_response(body)


JSON_REPLY = _json_reply()
EMBEDDINGS_REPLY = _embeddings_reply()
STREAM_REPLY = _stream_reply()
READY_REPLY = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"


class Upstream(asyncio.Protocol):
    """One connection: parse just enough HTTP/1.1 to find each request's end."""

    def __init__(self) -> None:
        self._buffer = b""
        self._transport: asyncio.WriteTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's TCPTransport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self._buffer[:end].lower()
            marker = head.find(b"\r\ncontent-length:")
            length = 0
            if marker >= 0:
                line_end = head.find(b"\r\n", marker + 2)
                length = int(head[marker + 17 : line_end if line_end > 0 else None])
            total = end + 4 + length
            if len(self._buffer) < total:
                return
            body = self._buffer[end + 4 : total]
            self._buffer = self._buffer[total:]
            assert self._transport is not None
            if not head.startswith(b"post"):
                self._transport.write(READY_REPLY)
            elif head.startswith(b"post /v1/embeddings"):
                self._transport.write(EMBEDDINGS_REPLY)
            elif b'"stream":true' in body or b'"stream": true' in body:
                self._transport.write(STREAM_REPLY)
            else:
                self._transport.write(JSON_REPLY)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Upstream, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(serve(int(sys.argv[1])))
