"""The gateway's services, built once in the app's lifespan and held on `app.state`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from redis.asyncio import Redis

from relaygate.config import Settings
from relaygate.observability.metrics import GatewayMetrics
from relaygate.pipeline.auth import KeyStore
from relaygate.providers.factory import build_providers
from relaygate.routing.registry import ModelRegistry
from relaygate.store.db import Database
from relaygate.streaming.bus import Bus, MemoryBus
from relaygate.streaming.event_log import EventLog, MemoryEventLog
from relaygate.streaming.redis_bus import RedisBus
from relaygate.streaming.redis_event_log import RedisEventLog
from relaygate.tokenizer import count_text


@dataclass(slots=True)
class Gateway:
    settings: Settings
    registry: ModelRegistry
    keys: KeyStore
    database: Database
    event_log: EventLog
    bus: Bus
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)
    redis: Redis | None = None  # set when several instances share state (storage.redis_url)
    stopping: bool = False  # SIGTERM received: not ready, finishing in-flight work
    draining: asyncio.Event = field(default_factory=asyncio.Event)  # grace over: end streams

    async def close(self) -> None:
        for provider in self.registry.providers.values():
            await provider.close()
        await self.database.close()
        if isinstance(self.bus, RedisBus):
            await self.bus.close()
        if self.redis is not None:
            await self.redis.aclose()


async def start_gateway(settings: Settings) -> Gateway:
    """Build every service and bring the database schema up to date."""
    providers = build_providers(settings.providers)
    database = Database(settings.storage.database_url)
    await database.migrate()
    count_text("warm up the tokenizer")
    redis = Redis.from_url(settings.storage.redis_url) if settings.storage.redis_url else None
    return Gateway(
        settings=settings,
        registry=ModelRegistry(settings, providers),
        keys=KeyStore(settings.keys),
        database=database,
        event_log=RedisEventLog(redis) if redis is not None else MemoryEventLog(),
        bus=RedisBus(redis) if redis is not None else MemoryBus(),
        redis=redis,
    )
