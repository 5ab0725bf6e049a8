"""The gateway's services, built once in the app's lifespan and held on `app.state`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from relaygate.agents.mcp.on_demand import McpExportOnDemand
from relaygate.agents.messages import Mailbox
from relaygate.agents.sessions.service import SessionService
from relaygate.agents.tools.service import ToolService
from relaygate.agents.tools.setup import start_tools
from relaygate.config import ProviderType, Settings
from relaygate.observability.metrics import GatewayMetrics
from relaygate.pipeline.auth import KeyStore
from relaygate.pipeline.background import BackgroundRunner
from relaygate.providers.factory import build_providers
from relaygate.realtime.service import Realtime
from relaygate.routing.registry import ModelRegistry
from relaygate.store.db import Database
from relaygate.streaming.bus import Bus, MemoryBus
from relaygate.streaming.event_log import EventLog, MemoryEventLog
from relaygate.streaming.shared import SharedState, connect_shared_state
from relaygate.tokens.tokenizer import preload as preload_tokenizer


@dataclass(slots=True)
class Gateway:
    settings: Settings
    registry: ModelRegistry
    keys: KeyStore
    database: Database
    event_log: EventLog
    bus: Bus
    mailbox: Mailbox  # agent-to-agent messages
    realtime: Realtime  # WebSocket chat: hub, turn pool
    sessions: SessionService  # conversations: history, memory, TTL sweeper
    tools: ToolService  # registry, policies, sandbox, workspaces
    mcp_export: McpExportOnDemand  # the registry served at /mcp (built on first use)
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)
    background: BackgroundRunner = field(default_factory=BackgroundRunner)  # Responses runs
    shared: SharedState | None = None  # Redis, when several instances serve (storage.redis_url)
    stopping: bool = False  # SIGTERM received: not ready, finishing in-flight work
    draining: asyncio.Event = field(default_factory=asyncio.Event)  # grace over: end streams

    async def close(self) -> None:
        await self.mcp_export.close()
        await self.tools.close()
        await self.sessions.close()
        await self.realtime.close()
        await self.background.close()
        for provider in self.registry.providers.values():
            await provider.close()
        await self.database.close()
        if self.shared is not None:
            await self.shared.close()


async def start_gateway(settings: Settings) -> Gateway:
    """Build every service and bring the database schema up to date."""
    providers = build_providers(settings.providers)
    database = Database(settings.storage.database_url)
    await database.migrate()
    if any(provider.type is ProviderType.MOCK for provider in settings.providers.values()):
        # the mock counts every answer: load the tokenizer before the first request
        await asyncio.to_thread(preload_tokenizer)
    url = settings.storage.redis_url
    shared = connect_shared_state(url) if url else None
    bus: Bus = shared.bus if shared is not None else MemoryBus()
    registry = ModelRegistry(settings, providers)
    event_log: EventLog = shared.event_log if shared is not None else MemoryEventLog()
    metrics = GatewayMetrics()
    tools = await start_tools(settings.tools, metrics.registry)
    sessions = SessionService(
        settings.sessions, registry, database, event_log, tools=tools, loop=settings.tools.loop
    )
    sessions.start()
    realtime = Realtime(
        settings.realtime, registry, sessions, database,
        shared_bus=bus if shared is not None else None,
    )
    realtime.start()
    keys = KeyStore(settings.keys)
    mcp_export = McpExportOnDemand(tools, keys)
    return Gateway(
        settings=settings,
        registry=registry,
        keys=keys,
        database=database,
        event_log=event_log,
        bus=bus,
        mailbox=Mailbox(database, bus),
        realtime=realtime,
        sessions=sessions,
        tools=tools,
        mcp_export=mcp_export,
        metrics=metrics,
        shared=shared,
    )
