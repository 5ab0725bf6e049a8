"""What every relayed format provides, and the one driver of a relayed stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

from relaygate.errors import GatewayError, ShuttingDown
from relaygate.pipeline.call import Call
from relaygate.pipeline.outcome import Attempt
from relaygate.providers.base import RawReply, WireFormat
from relaygate.routing.registry import Route
from relaygate.types import Usage


class StreamSniffer(Protocol):
    """Reads a relayed stream as it goes by; returns what the client should receive."""

    failure: GatewayError | None  # set when the upstream's stream turned out malformed

    def feed(self, chunk: bytes) -> bytes: ...

    def close(self) -> bytes:
        """The end of the upstream's body: what is left to send (raises if it was cut short)."""

    def usage(self) -> Usage:
        """The usage so far: the upstream's when it reported one, else our count."""


class RelayFormat(Protocol):
    format: WireFormat

    def validate(self, call: Call) -> None:
        """Check the client's body as the translating path would (400 on bad input)."""

    def request(self, call: Call, route: Route) -> bytes:
        """The body to send upstream (the upstream model's name, usage asked for)."""

    def whole(self, call: Call, route: Route, reply: RawReply, attempt: Attempt) -> RawReply:
        """The reply to send back, its usage recorded on `attempt`."""

    def sniffer(self, call: Call, route: Route) -> StreamSniffer: ...

    def error_frames(self, error: GatewayError) -> bytes:
        """The format's own error event (and terminator) ending a stream."""


async def relay_stream(
    first: bytes,
    chunks: AsyncIterator[bytes],
    sniffer: StreamSniffer,
    relay: RelayFormat,
    attempt: Attempt,
    draining: asyncio.Event,
) -> AsyncIterator[bytes]:
    """The upstream's stream to the client through `sniffer`; a failure, a malformed or cut
    stream, or shutdown ends it with the format's error event. The outcome is recorded
    when it ends, fails, or is closed early (the client went away)."""
    try:
        data: bytes | None = first
        while data is not None:
            out = sniffer.feed(data)
            if out:
                yield out
            if sniffer.failure is not None:
                raise sniffer.failure
            if draining.is_set():
                raise ShuttingDown("The gateway is shutting down.")
            data = await anext(chunks, None)
        rest = sniffer.close()
        if rest:
            yield rest
        attempt.usage = sniffer.usage()
        attempt.finish()
    except GatewayError as error:
        attempt.usage = sniffer.usage()
        attempt.fail(error)
        yield relay.error_frames(error)
    finally:
        if not attempt.done:
            attempt.usage = sniffer.usage()
            attempt.dropped()
