"""Event logs replay from an offset and then follow live: in-process and on real Redis,
where two instances (two log objects, two connections) share one log."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from relaygate.streaming.event_log import EventLog, MemoryEventLog
from relaygate.streaming.redis_event_log import RedisEventLog

REDIS_URL = os.environ.get("RELAYGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(params=["memory", "redis"])
async def logs(request: pytest.FixtureRequest) -> AsyncIterator[tuple[EventLog, EventLog]]:
    """Two handles on the same logs (for Redis: two connections, as two instances have)."""
    if request.param == "memory":
        log = MemoryEventLog()
        yield log, log
        return
    first, second = Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)
    yield RedisEventLog(first, block_ms=200), RedisEventLog(second, block_ms=200)
    await first.aclose()
    await second.aclose()


async def test_replay_from_offset_then_follow_live(logs: tuple[EventLog, EventLog]) -> None:
    writer, reader = logs
    log_id = f"test-{uuid.uuid4().hex}"
    for number in range(1, 6):
        assert await writer.append(log_id, {"n": number}) == number

    received: list[tuple[int, int]] = []

    async def read() -> None:
        async for event in reader.follow(log_id, after=3):
            received.append((event.sequence, event.data["n"]))

    task = asyncio.create_task(read())
    await asyncio.sleep(0.05)
    for number in range(6, 9):
        await writer.append(log_id, {"n": number})
    await writer.close(log_id)
    await asyncio.wait_for(task, 5)
    assert received == [(4, 4), (5, 5), (6, 6), (7, 7), (8, 8)]


async def test_concurrent_writers_get_distinct_sequences(logs: tuple[EventLog, EventLog]) -> None:
    first, second = logs
    log_id = f"test-{uuid.uuid4().hex}"
    sequences = await asyncio.gather(
        *(writer.append(log_id, {"i": index}) for index in range(20) for writer in (first, second))
    )
    assert sorted(sequences) == list(range(1, 41))
    await first.close(log_id)
    replayed = [event.sequence async for event in second.follow(log_id, live=False)]
    assert replayed == list(range(1, 41))


async def test_a_redis_follower_outlives_silence_longer_than_the_socket_timeout() -> None:
    """XREAD BLOCK ends before the client's socket timeout, so an idle wait is no error."""
    redis = Redis.from_url(f"{REDIS_URL}?socket_timeout=0.3")
    log, log_id = RedisEventLog(redis), f"test-{uuid.uuid4().hex}"
    try:
        follower = anext(aiter(log.follow(log_id)))
        waiting = asyncio.ensure_future(follower)
        await asyncio.sleep(1.0)  # three socket timeouts of silence
        assert not waiting.done()
        await log.append(log_id, {"n": 1})
        assert (await asyncio.wait_for(waiting, 2)).data == {"n": 1}
    finally:
        await log.close(log_id)
        await redis.aclose()
