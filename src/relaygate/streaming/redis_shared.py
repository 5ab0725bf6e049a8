"""The Redis side of `shared.py`: one client, the Streams event log, the pub/sub bus."""

from __future__ import annotations

from redis.asyncio import Redis

from relaygate.streaming.redis_bus import RedisBus
from relaygate.streaming.redis_event_log import RedisEventLog
from relaygate.streaming.shared import SharedState


def connect(url: str) -> SharedState:
    redis = Redis.from_url(url)
    bus = RedisBus(redis)

    async def close() -> None:
        await bus.close()
        await redis.aclose()

    return SharedState(event_log=RedisEventLog(redis), bus=bus, close=close, redis=redis)
