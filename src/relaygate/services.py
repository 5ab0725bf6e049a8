"""The gateway's services, built once in the app's lifespan and held on `app.state`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from relaygate.config import Settings
from relaygate.pipeline.auth import KeyStore
from relaygate.providers.factory import build_providers
from relaygate.routing.registry import ModelRegistry
from relaygate.store.db import Database
from relaygate.streaming.bus import Bus, MemoryBus
from relaygate.streaming.event_log import EventLog, MemoryEventLog
from relaygate.tokenizer import count_text


@dataclass(slots=True)
class Gateway:
    settings: Settings
    registry: ModelRegistry
    keys: KeyStore
    database: Database
    event_log: EventLog
    bus: Bus
    stopping: bool = False  # SIGTERM received: not ready, finishing in-flight work
    draining: asyncio.Event = field(default_factory=asyncio.Event)  # grace over: end streams

    async def close(self) -> None:
        for provider in self.registry.providers.values():
            await provider.close()
        await self.database.close()


async def start_gateway(settings: Settings) -> Gateway:
    """Build every service and bring the database schema up to date."""
    providers = build_providers(settings.providers)
    database = Database(settings.storage.database_url)
    await database.migrate()
    count_text("warm up the tokenizer")
    return Gateway(
        settings=settings,
        registry=ModelRegistry(settings, providers),
        keys=KeyStore(settings.keys),
        database=database,
        event_log=MemoryEventLog(),
        bus=MemoryBus(),
    )
