"""The one HTTP executor every HTTP provider shares: pooled keep-alive connections,
timeouts, and transport failures translated into the gateway's errors once, here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp

from relaygate.errors import UpstreamError, UpstreamTimeout


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
        except TimeoutError as exc:
            raise UpstreamTimeout(
                f"The upstream provider '{self._provider_name}' did not answer in time."
            ) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(
                f"Could not reach the upstream provider '{self._provider_name}': {_describe(exc)}"
            ) from exc

    @asynccontextmanager
    async def open_stream(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """POST and hand back the open response; closing it cancels the upstream request."""
        try:
            response = await self._client().post(url, data=body, headers=headers)
        except TimeoutError as exc:
            raise UpstreamTimeout(
                f"The upstream provider '{self._provider_name}' did not answer in time."
            ) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(
                f"Could not reach the upstream provider '{self._provider_name}': {_describe(exc)}"
            ) from exc
        try:
            yield response
        finally:
            response.close()

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
