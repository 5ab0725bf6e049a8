"""Per-attempt timeouts: a new connection, time to the first byte (a whole reply, or a
stream's first item), the total, and a stream's idle gap. A deployment sets them
(`timeout:`), a request may lower them (`x-relaygate-timeout: <seconds>`). Exceeding one is
an UpstreamTimeout (504)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import TypeVar

from relaygate.errors import UpstreamTimeout
from relaygate.routing.settings import TimeoutsSettings

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Deadlines:
    connect: float | None = None  # None: the provider's `timeout.connect`
    first_byte: float | None = None
    total: float | None = None
    stream_idle: float | None = None

    @property
    def whole(self) -> float | None:
        """The limit on a whole (not streamed) reply."""
        return _least(self.first_byte, self.total)

    @property
    def paces_stream(self) -> bool:
        return self.total is not None or self.stream_idle is not None


def deadlines_for(settings: TimeoutsSettings | None, requested: float | None) -> Deadlines | None:
    """A deployment's timeouts, each lowered to the request's `requested` seconds; None: none."""
    if settings is None and requested is None:
        return None
    if settings is None:
        return Deadlines(requested, requested, requested, None)
    return Deadlines(
        _least(settings.connect, requested),
        _least(settings.first_byte, requested),
        _least(settings.total, requested),
        settings.stream_idle,
    )


async def within(awaitable: Awaitable[T], seconds: float | None, provider: str) -> T:
    """`awaitable`'s result, or UpstreamTimeout after `seconds`."""
    if seconds is None:
        return await awaitable
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError as exc:
        raise UpstreamTimeout(
            f"The upstream provider '{provider}' did not answer within {seconds:g} s."
        ) from exc


async def paced(
    chunks: AsyncIterator[T], deadlines: Deadlines, provider: str, started: float
) -> AsyncIterator[T]:
    """The rest of a stream, each item within the idle limit and all within the total."""
    total_end = started + deadlines.total if deadlines.total is not None else None
    try:
        while True:
            limit = deadlines.stream_idle
            if total_end is not None:
                limit = _least(limit, max(0.0, total_end - time.perf_counter()))
            try:
                async with asyncio.timeout(limit):
                    item = await anext(chunks)
            except StopAsyncIteration:
                return
            except TimeoutError as exc:
                raise UpstreamTimeout(
                    f"The upstream provider '{provider}' stalled mid-stream "
                    f"(no data for {limit:g} s)."
                ) from exc
            yield item
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()


def _least(first: float | None, second: float | None) -> float | None:
    if first is None:
        return second
    if second is None:
        return first
    return min(first, second)
