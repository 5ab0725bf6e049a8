"""Keep-alive connections to upstreams, pooled per origin, and the bytes of a request."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from relaygate.providers.upstream_connection import UpstreamConnection

KEEPALIVE_SECONDS = 30.0  # an idle connection older than this is closed, not reused

CONNECT_SECONDS: ContextVar[float | None] = ContextVar("relaygate_connect_seconds", default=None)
"""One attempt's own connect timeout (its deployment's `timeout.connect`, maybe lowered by the
request), set by the dispatch around that upstream call; None: the provider's."""


@contextmanager
def connect_timeout(seconds: float | None) -> Iterator[None]:
    """New connections made inside take at most `seconds` (None: the provider's limit)."""
    if seconds is None:
        yield
        return
    token = CONNECT_SECONDS.set(seconds)
    try:
        yield
    finally:
        CONNECT_SECONDS.reset(token)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a URL points: the origin to connect to, and the request line's target."""

    scheme: str
    host: str
    port: int
    path: str  # path and query
    host_header: str


@lru_cache(maxsize=512)
def parse_url(url: str) -> Target:
    """The target of an absolute http(s) URL (cached: providers post to few URLs)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    default_port = 443 if parts.scheme == "https" else 80
    port = parts.port or default_port
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = shown if port == default_port else f"{shown}:{port}"
    return Target(parts.scheme, host, port, path, host_header)


def request_head(target: Target, headers: Mapping[str, str], body_length: int) -> bytes:
    """`POST` request line and headers; a header value holding a line break is refused."""
    lines = [
        f"POST {target.path} HTTP/1.1",
        f"Host: {target.host_header}",
        f"Content-Length: {body_length}",
    ]
    if not any(name.lower() == "accept-encoding" for name in headers):
        lines.append("Accept-Encoding: gzip, deflate")
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise ValueError(f"header {name!r} holds a line break")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")


_tls_context: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    """The system's trust store, loaded on the first https connection (~50 ms)."""
    global _tls_context
    if _tls_context is None:
        _tls_context = ssl.create_default_context()
    return _tls_context


class ConnectionPool:
    """At most `max_connections` requests in flight; idle connections kept per origin."""

    def __init__(self, *, connect_timeout: float, max_connections: int) -> None:
        self._connect_timeout = connect_timeout
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[tuple[str, str, int], list[UpstreamConnection]] = {}
        self._busy: set[UpstreamConnection] = set()

    async def acquire(self, target: Target, *, new: bool = False) -> UpstreamConnection:
        """A connection to the target's origin: an idle one, or (always when `new`) a new one."""
        await self._slots.acquire()
        try:
            connection = (None if new else self._reuse(target)) or await self._connect(target)
        except BaseException:
            self._slots.release()
            raise
        self._busy.add(connection)
        return connection

    def release(self, connection: UpstreamConnection, target: Target) -> None:
        """Give the slot back, and the connection too when its last reply ended cleanly."""
        self._slots.release()
        self._busy.discard(connection)
        if connection.reusable:
            connection.idle_since = asyncio.get_running_loop().time()
            key = (target.scheme, target.host, target.port)
            idle = self._idle.setdefault(key, [])
            idle.append(connection)
            while idle[0].closed or connection.idle_since - idle[0].idle_since > KEEPALIVE_SECONDS:
                idle.pop(0).close()  # the oldest, at the front: gone or too old to reuse
        else:
            connection.close()

    def _reuse(self, target: Target) -> UpstreamConnection | None:
        idle = self._idle.get((target.scheme, target.host, target.port))
        now = asyncio.get_running_loop().time()
        while idle:
            connection = idle.pop()
            if not connection.closed and now - connection.idle_since < KEEPALIVE_SECONDS:
                return connection
            connection.close()
        return None

    async def _connect(self, target: Target) -> UpstreamConnection:
        loop = asyncio.get_running_loop()
        tls = _tls() if target.scheme == "https" else None
        limit = CONNECT_SECONDS.get()
        async with asyncio.timeout(self._connect_timeout if limit is None else limit):
            _, connection = await loop.create_connection(
                UpstreamConnection,
                target.host,
                target.port,
                ssl=tls,
                server_hostname=target.host if tls is not None else None,
            )
        return connection

    def interrupt(self, failure: Callable[[], BaseException]) -> None:
        """End every request in flight with a `failure()` of its own."""
        for connection in list(self._busy):
            connection.interrupt(failure())

    def close(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()
