"""The one HTTP executor every HTTP provider shares: pooled keep-alive connections,
timeouts, and transport failures translated into the gateway's errors once, here (an
upstream's failure status, through the provider's own `failure` mapping)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from relaygate.config import ProviderSettings
from relaygate.errors import GatewayError, UpstreamError, UpstreamTimeout
from relaygate.providers.failures import malformed_reply
from relaygate.streaming.sse import SSEParser

FINISH_SECONDS = 0.25


@dataclass(slots=True)
class HttpReply:
    status: int
    headers: Mapping[str, str]
    body: bytes


class HttpExecutor:
    """POSTs to one upstream over a pooled aiohttp session."""

    def __init__(
        self,
        *,
        provider_name: str,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
    ) -> None:
        self._provider_name = provider_name
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout, sock_read=read_timeout
        )
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def for_provider(cls, name: str, settings: ProviderSettings) -> HttpExecutor:
        """The executor for one configured provider: its timeouts and connection limit."""
        return cls(
            provider_name=name,
            connect_timeout=settings.timeout.connect,
            read_timeout=settings.timeout.read,
            max_connections=settings.max_connections,
        )

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, keepalive_timeout=30, ttl_dns_cache=300
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpReply:
        """POST and read the whole reply; transport failures raise UpstreamError."""
        try:
            async with self._client().post(url, data=body, headers=headers) as response:
                data = await response.read()
                return HttpReply(response.status, response.headers, data)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._unreachable(exc) from exc

    @asynccontextmanager
    async def open_stream(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        failure: Callable[[HttpReply], GatewayError],
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """POST and hand back the open response; a failure status raises `failure(reply)`, the
        whole error body read. A stream read to its end gives its connection back to the pool;
        one abandoned midway closes it, which cancels the upstream request."""
        try:
            response = await self._client().post(url, data=body, headers=headers)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._unreachable(exc) from exc
        try:
            if response.status >= 400:
                data = await response.read()
                raise failure(HttpReply(response.status, response.headers, data))
            yield response
        finally:
            if response.content.at_eof():
                response.release()
            else:
                response.close()

    def _unreachable(self, exc: TimeoutError | aiohttp.ClientError) -> UpstreamError:
        """A request that got no reply: a timeout (504) or a transport failure (502)."""
        if isinstance(exc, TimeoutError):
            return UpstreamTimeout(
                f"The upstream provider '{self._provider_name}' did not answer in time."
            )
        return UpstreamError(
            f"Could not reach the upstream provider '{self._provider_name}': {_describe(exc)}"
        )

    async def iter_body(self, response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
        """The body's chunks as they arrive; a stall or a cut raises UpstreamError."""
        try:
            async for chunk in response.content.iter_any():
                yield chunk
        except TimeoutError as exc:
            raise UpstreamTimeout(
                f"The upstream provider '{self._provider_name}' stalled mid-stream."
            ) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(
                f"The upstream provider '{self._provider_name}' broke off the stream: "
                f"{_describe(exc)}"
            ) from exc

    async def sse_json(self, response: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
        """The JSON object of each server-sent event, in order, until `[DONE]` or the end.

        A reply that is not an event stream, or an event that is not a JSON object, raises
        UpstreamError (as a stall or a cut does); `[DONE]` hands the connection back."""
        if response.content_type != "text/event-stream":
            raise malformed_reply(self._provider_name, "text/event-stream", response.content_type)
        parser = SSEParser()
        async for chunk in self.iter_body(response):
            for event in parser.feed(chunk):
                if event.data == "[DONE]":
                    await self.finish(response)
                    return
                yield self._event_object(event.data)
        for event in parser.close():
            if event.data != "[DONE]":
                yield self._event_object(event.data)

    def _event_object(self, data: str) -> dict[str, Any]:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            raise UpstreamError(
                f"The upstream provider '{self._provider_name}' sent a malformed stream event."
            )
        return value

    async def finish(self, response: aiohttp.ClientResponse) -> None:
        """Read the rest of a body whose content is complete (a stream after `[DONE]`: only the
        chunked terminator is left) so that its connection goes back to the pool. A peer that
        sends more, or nothing, within FINISH_SECONDS gets its connection closed instead."""
        try:
            async with asyncio.timeout(FINISH_SECONDS):
                await response.content.read()
        except (TimeoutError, aiohttp.ClientError):
            response.close()  # not reusable; open_stream's exit sees it is not at EOF either

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return (
            "connection refused"
            if isinstance(exc.os_error, ConnectionRefusedError)
            else str(exc.os_error)
        )
    return type(exc).__name__ if not str(exc) else str(exc)
