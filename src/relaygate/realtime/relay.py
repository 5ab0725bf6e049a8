"""Carry a conversation's frames between gateway instances over the shared bus (Redis).

With several instances, the participants of one conversation may be connected to
different processes. Each hub subscribes to `chat:<tenant>:<conversation>` while it has
a participant there, publishes every frame it broadcasts (tagged with its origin), and
delivers the frames of other origins to its own participants. A turn runs on one
instance, so its events keep their order everywhere.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from relaygate.observability.logging import get_logger
from relaygate.streaming.bus import Bus

_log = get_logger("relaygate.realtime.relay")

RoomKey = tuple[str, str]
Deliver = Callable[[RoomKey, str], None]
OUTBOX_SIZE = 10_000


def topic(key: RoomKey) -> str:
    return f"chat:{key[0]}:{key[1]}"


class RoomRelay:
    def __init__(self, bus: Bus, deliver: Deliver) -> None:
        self.origin = uuid.uuid4().hex[:12]
        self._bus = bus
        self._deliver = deliver
        self._listeners: dict[RoomKey, asyncio.Task[None]] = {}
        self._outbox: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(OUTBOX_SIZE)
        self._publisher: asyncio.Task[None] | None = None

    async def join(self, key: RoomKey) -> None:
        """Start listening to the room; returns once the subscription is live."""
        if key in self._listeners:
            return
        ready = asyncio.Event()
        self._listeners[key] = asyncio.create_task(self._listen(key, ready))
        waiter = asyncio.ensure_future(ready.wait())
        await asyncio.wait([waiter, self._listeners[key]], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()

    def leave(self, key: RoomKey) -> None:
        listener = self._listeners.pop(key, None)
        if listener is not None:
            listener.cancel()

    async def _listen(self, key: RoomKey, ready: asyncio.Event) -> None:
        try:
            async with self._bus.subscribe(topic(key)) as messages:
                ready.set()
                async for message in messages:
                    if message.get("origin") != self.origin and isinstance(message.get("frame"), str):
                        self._deliver(key, message["frame"])
        except (OSError, TimeoutError) as exc:  # the bus went away: local delivery goes on
            _log.warning("room relay stopped", topic=topic(key), reason=str(exc))

    def publish(self, key: RoomKey, frame: str) -> None:
        """Queue the frame for the other instances (in order; never blocks the caller)."""
        if self._publisher is None:
            self._publisher = asyncio.create_task(self._publish())
        try:
            self._outbox.put_nowait((topic(key), {"origin": self.origin, "frame": frame}))
        except asyncio.QueueFull:
            _log.warning("room relay outbox full: frame not relayed", topic=topic(key))

    async def _publish(self) -> None:
        while True:
            name, message = await self._outbox.get()
            try:
                await self._bus.publish(name, message)
            except (OSError, TimeoutError) as exc:
                _log.warning("room relay publish failed", topic=name, reason=str(exc))

    async def close(self) -> None:
        tasks = [*self._listeners.values(), *([self._publisher] if self._publisher else [])]
        self._listeners.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task
