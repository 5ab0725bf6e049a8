"""The one HTTP executor every HTTP provider shares: pooled keep-alive connections,
timeouts, and transport failures translated into the gateway's errors once, here (an
upstream's failure status, through the provider's own `failure` mapping)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson

from relaygate.config import ProviderSettings
from relaygate.errors import (
    GatewayError,
    MalformedStream,
    ShuttingDown,
    UpstreamError,
    UpstreamTimeout,
)
from relaygate.observability.tracing.propagation import OUTGOING_TRACE
from relaygate.providers.failures import malformed_reply
from relaygate.providers.upstream_connection import ReplyBroken, UpstreamConnection, UpstreamReply
from relaygate.providers.upstream_pool import ConnectionPool, Target, parse_url, request_head
from relaygate.streaming.sse import ServerSentEvent, SSEParser

FINISH_SECONDS = 0.25


@dataclass(slots=True)
class HttpReply:
    status: int
    headers: Mapping[str, str]
    body: bytes


class HttpExecutor:
    """POSTs to one upstream over pooled keep-alive connections."""

    def __init__(
        self,
        *,
        provider_name: str,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
    ) -> None:
        self._provider_name = provider_name
        self._read_timeout = read_timeout
        self._pool = ConnectionPool(
            connect_timeout=connect_timeout, max_connections=max_connections
        )

    @classmethod
    def for_provider(cls, name: str, settings: ProviderSettings) -> HttpExecutor:
        """The executor for one configured provider: its timeouts and connection limit."""
        return cls(
            provider_name=name,
            connect_timeout=settings.timeout.connect,
            read_timeout=settings.timeout.read,
            max_connections=settings.max_connections,
        )

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpReply:
        """POST and read the whole reply; transport failures raise UpstreamError."""
        async with self._exchange(url, body, headers) as reply:
            try:
                data = await reply.read(self._read_timeout)
            except (TimeoutError, ReplyBroken) as exc:
                raise self._unreachable(exc) from exc
            return HttpReply(reply.status, reply.headers, data)

    async def post_json(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        failure: Callable[[HttpReply], GatewayError],
    ) -> HttpReply:
        """POST and read a JSON reply: a failure status raises `failure(reply)`, a reply that
        is not JSON raises UpstreamError."""
        reply = await self.post(url, body, headers)
        if reply.status >= 400:
            raise failure(reply)
        content_type = reply.headers.get("content-type", "")
        if "json" not in content_type:
            raise malformed_reply(self._provider_name, "application/json", content_type)
        return reply

    async def relay_sse(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        failure: Callable[[HttpReply], GatewayError],
    ) -> AsyncIterator[bytes]:
        """POST and yield an event stream's bytes as they arrive (the byte relay); a failure
        status raises `failure(reply)`, a reply that is not an event stream UpstreamError."""
        async with self.open_stream(url, body, headers, failure) as reply:
            if reply.content_type != "text/event-stream":
                raise malformed_reply(self._provider_name, "text/event-stream", reply.content_type)
            async for chunk in self.iter_body(reply):
                yield chunk

    @asynccontextmanager
    async def open_stream(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        failure: Callable[[HttpReply], GatewayError],
    ) -> AsyncIterator[UpstreamReply]:
        """POST and hand back the open reply; a failure status raises `failure(reply)`, the
        whole error body read. A stream read to its end gives its connection back to the pool;
        one abandoned midway closes it, which cancels the upstream request."""
        async with self._exchange(url, body, headers) as reply:
            if reply.status >= 400:
                try:
                    data = await reply.read(self._read_timeout)
                except (TimeoutError, ReplyBroken) as exc:
                    raise self._unreachable(exc) from exc
                raise failure(HttpReply(reply.status, reply.headers, data))
            yield reply

    @asynccontextmanager
    async def _exchange(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> AsyncIterator[UpstreamReply]:
        """Send the request on a pooled connection and yield the reply once its headers are
        in; afterwards the connection goes back to the pool if its reply was read whole."""
        try:
            target = parse_url(url)
            trace = OUTGOING_TRACE.get()  # tracing on: the attempt span's traceparent
            if trace:
                headers = {**headers, **trace}
            head = request_head(target, headers, len(body))
        except ValueError as exc:
            raise UpstreamError(
                f"Cannot send to the upstream provider '{self._provider_name}': {exc}"
            ) from exc
        connection, reply = await self._send(target, head, body)
        try:
            yield reply
        except BaseException:
            connection.close()
            raise
        finally:
            self._pool.release(connection, target)

    async def _send(
        self, target: Target, head: bytes, body: bytes
    ) -> tuple[UpstreamConnection, UpstreamReply]:
        """A connection and its reply's head. A kept-alive connection the upstream closed as
        the request went out (not a byte back: it never read it) is retried once, new."""
        for retry in (False, True):
            try:
                connection = await self._pool.acquire(target, new=retry)
            except (TimeoutError, OSError) as exc:
                raise self._unreachable(exc) from exc
            try:
                return connection, await connection.send(head, body, self._read_timeout)
            except BaseException as exc:
                connection.close()
                self._pool.release(connection, target)
                stale = isinstance(exc, ReplyBroken) and exc.before_reply
                if stale and connection.requests > 1 and not retry:
                    continue
                if isinstance(exc, TimeoutError | ReplyBroken):
                    raise self._unreachable(exc) from exc
                raise
        raise AssertionError("the loop returns or raises")

    def _unreachable(self, exc: TimeoutError | OSError | ReplyBroken) -> UpstreamError:
        """A request that got no reply: a timeout (504) or a transport failure (502)."""
        if isinstance(exc, TimeoutError):
            return UpstreamTimeout(
                f"The upstream provider '{self._provider_name}' did not answer in time."
            )
        return UpstreamError(
            f"Could not reach the upstream provider '{self._provider_name}': {_describe(exc)}"
        )

    async def iter_body(self, reply: UpstreamReply) -> AsyncIterator[bytes]:
        """The body's chunks as they arrive; a stall or a cut raises UpstreamError."""
        try:
            while chunk := await reply.read_chunk(self._read_timeout):
                yield chunk
        except TimeoutError as exc:
            raise UpstreamTimeout(
                f"The upstream provider '{self._provider_name}' stalled mid-stream."
            ) from exc
        except ReplyBroken as exc:
            raise UpstreamError(
                f"The upstream provider '{self._provider_name}' broke off the stream: {exc}"
            ) from exc

    async def sse_json(self, reply: UpstreamReply) -> AsyncIterator[dict[str, Any]]:
        """The JSON object of each server-sent event, in order, until `[DONE]` or the end.

        A reply that is not an event stream, or an event that is not a JSON object, raises
        UpstreamError (as a stall or a cut does); `[DONE]` hands the connection back."""
        if reply.content_type != "text/event-stream":
            raise malformed_reply(self._provider_name, "text/event-stream", reply.content_type)
        parser = SSEParser()
        async for chunk in self.iter_body(reply):
            for event in self._parsed(parser, chunk):
                if event.data == "[DONE]":
                    await self.finish(reply)
                    return
                yield self._event_object(event.data)
        for event in self._parsed(parser, None):
            if event.data != "[DONE]":
                yield self._event_object(event.data)

    def _parsed(self, parser: SSEParser, chunk: bytes | None) -> list[ServerSentEvent]:
        """The events `chunk` completes (None: the end of the body); the parser's
        MalformedStream is reworded with the provider's name."""
        try:
            return parser.close() if chunk is None else parser.feed(chunk)
        except MalformedStream as exc:
            raise self._malformed_event("a line is not UTF-8") from exc

    def _event_object(self, data: str) -> dict[str, Any]:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            raise self._malformed_event("not a JSON object")
        return value

    def _malformed_event(self, why: str) -> MalformedStream:
        return MalformedStream(
            f"The upstream provider '{self._provider_name}' sent a malformed stream event ({why})."
        )

    async def finish(self, reply: UpstreamReply) -> None:
        """Read the rest of a body whose content is complete (a stream after `[DONE]`: only the
        chunked terminator is left) so that its connection goes back to the pool. A peer that
        sends more, or nothing, within FINISH_SECONDS gets its connection closed instead."""
        try:
            if await reply.read(FINISH_SECONDS):
                reply.close()  # more after the end: not a connection to reuse
        except (TimeoutError, ReplyBroken):
            reply.close()

    def interrupt(self) -> None:
        """Shutdown: every request still waiting on this upstream ends with ShuttingDown (a
        stream with its error event and `[DONE]`, a plain request with 503)."""
        self._pool.interrupt(lambda: ShuttingDown("The gateway is shutting down."))

    async def close(self) -> None:
        self._pool.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host ({exc.strerror})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
