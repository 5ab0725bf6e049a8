"""One HTTP/1.1 keep-alive connection to an upstream: an asyncio protocol that writes a
request and parses the reply with httptools (llhttp, the parser uvicorn uses), handing the
body over chunk by chunk as it arrives.

A general-purpose client (aiohttp) spent ~130 µs a request on work a relay does not need
(cookies, redirects, URL objects, multidicts, trace hooks); this is the part we use.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import deque
from typing import cast

import httptools
from starlette.datastructures import Headers

BUFFER_HIGH = 512 * 1024  # stop reading from the socket while this much waits unread
GZIP_OR_ZLIB = 32 + zlib.MAX_WBITS  # zlib detects either header


class ReplyBroken(Exception):
    """The upstream closed the connection mid-reply, or sent something that is not HTTP."""

    def __init__(self, message: str, *, before_reply: bool = False) -> None:
        super().__init__(message)
        self.before_reply = before_reply  # not one byte of the reply had arrived


class UpstreamReply:
    """The status and headers of a reply, and its body as it arrives."""

    def __init__(self, connection: UpstreamConnection, status: int, headers: Headers) -> None:
        self.status = status
        self.headers = headers
        self._connection = connection
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._arrived = asyncio.Event()
        self._failure: BaseException | None = None
        self.complete = False  # the whole body has arrived
        encoding = headers.get("content-encoding", "").lower()
        self._decoder = zlib.decompressobj(GZIP_OR_ZLIB) if encoding in ("gzip", "deflate") else None

    @property
    def content_type(self) -> str:
        """The media type alone, lower case: `text/event-stream`, `application/json`."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def at_eof(self) -> bool:
        """Everything has arrived and been read."""
        return self.complete and not self._chunks

    async def read_chunk(self, idle_seconds: float) -> bytes:
        """What has arrived of the body since the last call, waiting for something if nothing
        has (b"" at its end); TimeoutError after `idle_seconds` of silence."""
        while not self._chunks:
            if self._failure is not None:
                raise self._failure
            if self.complete:
                return b""
            self._arrived.clear()
            async with asyncio.timeout(idle_seconds):
                await self._arrived.wait()
        # everything that has arrived, as one piece: a stream's events that came in one
        # packet go on in one write
        chunk = self._chunks.popleft() if len(self._chunks) == 1 else b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        self._connection.resume_reading()
        return chunk

    def close(self) -> None:
        """Drop the connection: the upstream sees the request abandoned."""
        self._connection.close()

    async def read(self, idle_seconds: float) -> bytes:
        """The rest of the body."""
        parts = []
        while chunk := await self.read_chunk(idle_seconds):
            parts.append(chunk)
        return b"".join(parts)

    # --- fed by the connection ---------------------------------------------------

    def _feed(self, data: bytes) -> None:
        if self._decoder is not None:
            try:
                data = self._decoder.decompress(data)
            except zlib.error as exc:
                self._fail(ReplyBroken(f"undecodable compressed body: {exc}"))
                return
        if data:
            self._chunks.append(data)
            self._buffered += len(data)
            self._arrived.set()
            if self._buffered >= BUFFER_HIGH:
                self._connection.pause_reading()

    def _finish(self) -> None:
        if self._decoder is not None:
            rest = self._decoder.flush()
            if rest:
                self._chunks.append(rest)
        self.complete = True
        self._arrived.set()

    def _fail(self, failure: BaseException) -> None:
        if not self.complete:
            self._failure = failure
            self._arrived.set()


class UpstreamConnection(asyncio.Protocol):
    """A connection that carries one request at a time."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._raw_headers: list[tuple[bytes, bytes]] = []
        self._started: asyncio.Future[UpstreamReply] | None = None
        self._reply: UpstreamReply | None = None
        self._until_close = False  # a body with neither length nor chunks ends at close
        self._keep_alive = False
        self._paused = False
        self.closed = False
        self.idle_since = 0.0
        self.requests = 0  # sent on this connection so far
        self._heard = False  # a byte of the current reply has arrived

    # --- asyncio protocol --------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self._heard = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._broken(ReplyBroken(f"malformed HTTP reply: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._reply is not None and self._reply.complete:
            return
        if self._reply is not None and self._until_close and exc is None:
            self._reply._finish()
        else:
            closed = ReplyBroken("the upstream closed the connection", before_reply=not self._heard)
            self._broken(closed)

    # --- httptools callbacks -----------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self._raw_headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        headers = Headers(raw=self._raw_headers)
        self._raw_headers = []
        if 100 <= status < 200:
            return  # informational (100 Continue, 103 Early Hints): the reply comes next
        self._keep_alive = self._parser.should_keep_alive()  # read here: llhttp resets it later
        self._until_close = (
            "content-length" not in headers
            and "chunked" not in headers.get("transfer-encoding", "").lower()
            and status not in (204, 304)
        )
        self._reply = UpstreamReply(self, status, headers)
        if self._started is not None and not self._started.done():
            self._started.set_result(self._reply)

    def on_body(self, body: bytes) -> None:
        if self._reply is not None:
            self._reply._feed(body)

    def on_message_complete(self) -> None:
        if self._reply is not None:
            self._reply._finish()

    # --- used by the pool and the executor ------------------------------------------

    async def send(self, head: bytes, body: bytes, wait_seconds: float) -> UpstreamReply:
        """Write the request; the reply once its headers have arrived (TimeoutError after
        `wait_seconds`)."""
        assert self._transport is not None
        self._reply = None
        self._heard = False
        self.requests += 1
        self._started = asyncio.get_running_loop().create_future()
        self._transport.write(head + body if len(body) < 65536 else head)
        if len(body) >= 65536:
            self._transport.write(body)
        async with asyncio.timeout(wait_seconds):
            return await self._started

    @property
    def reusable(self) -> bool:
        """The last reply ended cleanly and the upstream keeps the connection open."""
        return (
            not self.closed
            and self._reply is not None
            and self._reply.complete
            and self._keep_alive
            and self._transport is not None
            and not self._transport.is_closing()
        )

    def pause_reading(self) -> None:
        if not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self._paused and self._transport is not None and not self.closed:
            self._paused = False
            self._transport.resume_reading()

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    def interrupt(self, failure: BaseException) -> None:
        """End the request in flight with `failure` (raised where its reply is awaited)."""
        if self._started is not None and not self._started.done():
            self._started.set_exception(failure)
        if self._reply is not None:
            self._reply._fail(failure)
        self.close()

    def _broken(self, failure: ReplyBroken) -> None:
        if self._started is not None and not self._started.done():
            self._started.set_exception(failure)
        if self._reply is not None:
            self._reply._fail(failure)
        self.close()
