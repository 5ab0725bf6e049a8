"""What sessions need of the event log: where a live reader starts (`last_sequence`), and a
long-lived log that keeps only its newest events while its sequence keeps counting."""

from __future__ import annotations

import os
import uuid

from redis.asyncio import Redis

from relaygate.streaming.event_log import MemoryEventLog
from relaygate.streaming.redis_event_log import RedisEventLog

REDIS_URL = os.environ.get("RELAYGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def test_last_sequence_memory_and_redis() -> None:
    redis = Redis.from_url(REDIS_URL)
    try:
        for log in (MemoryEventLog(), RedisEventLog(redis)):
            log_id = f"test-{uuid.uuid4().hex}"
            assert await log.last_sequence(log_id) == 0
            for number in range(3):
                await log.append(log_id, {"n": number})
            assert await log.last_sequence(log_id) == 3
    finally:
        await redis.aclose()


async def test_a_full_log_drops_its_oldest_events_and_keeps_counting() -> None:
    log = MemoryEventLog(max_events=10)
    for number in range(1, 31):
        assert await log.append("long", {"n": number}) == number
    assert await log.last_sequence("long") == 30
    kept = [event.sequence async for event in log.follow("long", after=0, live=False)]
    assert kept[-1] == 30 and 10 <= len(kept) <= 11  # trimmed in steps of a tenth
    assert kept == list(range(kept[0], 31))
    resumed = [event.data["n"] async for event in log.follow("long", after=25, live=False)]
    assert resumed == [26, 27, 28, 29, 30]
