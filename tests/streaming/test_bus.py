"""Publish/subscribe: in-process, and across two instances through real Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from relaygate.streaming.bus import MemoryBus
from relaygate.streaming.redis_bus import RedisBus

REDIS_URL = os.environ.get("RELAYGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(params=["memory", "redis"])
async def buses(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Any, Any]]:
    if request.param == "memory":
        bus = MemoryBus()
        yield bus, bus
        return
    first, second = Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)
    bus_a, bus_b = RedisBus(first), RedisBus(second)
    yield bus_a, bus_b
    await bus_a.close()
    await bus_b.close()
    await first.aclose()
    await second.aclose()


async def test_subscribers_on_another_instance_receive_in_order(buses: tuple[Any, Any]) -> None:
    publisher, subscriber = buses
    topic = f"conversation-{uuid.uuid4().hex}"
    async with subscriber.subscribe(topic) as one, subscriber.subscribe(topic) as two:
        for number in range(5):
            await publisher.publish(topic, {"n": number})
        for messages in (one, two):
            got = [(await asyncio.wait_for(anext(messages), 2))["n"] for _ in range(5)]
            assert got == [0, 1, 2, 3, 4]


async def test_other_topics_are_not_delivered(buses: tuple[Any, Any]) -> None:
    publisher, subscriber = buses
    topic, other = f"t-{uuid.uuid4().hex}", f"t-{uuid.uuid4().hex}"
    async with subscriber.subscribe(topic) as messages:
        await publisher.publish(other, {"n": "other"})
        await publisher.publish(topic, {"n": "mine"})
        assert (await asyncio.wait_for(anext(messages), 2)) == {"n": "mine"}
