"""Publish/subscribe on Redis, for several gateway instances: one Redis connection per
process listens to every topic this process has subscribers for, and fans out locally."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from relaygate.streaming.bus import MemoryBus


class RedisBus:
    """`Bus` over Redis PUBLISH/SUBSCRIBE; local delivery reuses MemoryBus's bounded queues."""

    def __init__(self, redis: Redis, prefix: str = "relaygate:bus:", queue_size: int = 1000) -> None:
        self._redis = redis
        self._prefix = prefix
        self._local = MemoryBus(queue_size)
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._counts: dict[str, int] = {}
        self._subscribed: dict[str, asyncio.Event] = {}
        self._subscribing = asyncio.Lock()  # one SUBSCRIBE at a time: concurrent first ones raced

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        await self._redis.publish(self._prefix + topic, orjson.dumps(message))

    async def _ensure_reader(self) -> PubSub:
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=False)
        return self._pubsub

    async def _read(self, pubsub: PubSub) -> None:
        while True:
            message = await pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            channel = message["channel"]
            topic = (channel.decode() if isinstance(channel, bytes) else channel)[len(self._prefix):]
            if message["type"] == "subscribe":
                event = self._subscribed.get(topic)
                if event is not None:
                    event.set()
                continue
            if message["type"] == "message":
                await self._local.publish(topic, orjson.loads(message["data"]))

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        pubsub = await self._ensure_reader()
        async with self._local.subscribe(topic) as messages:
            self._counts[topic] = self._counts.get(topic, 0) + 1
            if self._counts[topic] == 1:
                async with self._subscribing:
                    ready = self._subscribed[topic] = asyncio.Event()
                    await pubsub.subscribe(self._prefix + topic)
                    if self._reader is None:
                        self._reader = asyncio.create_task(self._read(pubsub))
                    await asyncio.wait_for(ready.wait(), timeout=5)
            try:
                yield messages
            finally:
                self._counts[topic] -= 1
                if self._counts[topic] == 0:
                    del self._counts[topic]
                    self._subscribed.pop(topic, None)
                    await pubsub.unsubscribe(self._prefix + topic)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._pubsub is not None:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
            self._pubsub = None
