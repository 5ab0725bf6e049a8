"""The gateway's services, built once in the app's lifespan and held on `app.state`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from relaygate.config import ProviderType, Settings
from relaygate.lazy_import import import_module
from relaygate.observability.metrics import GatewayMetrics
from relaygate.pipeline.auth import KeyStore, Principal, key_from_headers
from relaygate.pipeline.background import BackgroundRunner
from relaygate.pipeline.chain import Pipeline, Step
from relaygate.pipeline.dispatch import Dispatch
from relaygate.pipeline.hooks import Hooks
from relaygate.pipeline.outcome import Sinks
from relaygate.providers.factory import build_providers
from relaygate.routing.registry import ModelRegistry
from relaygate.streaming.bus import Bus, MemoryBus
from relaygate.streaming.event_log import EventLog, MemoryEventLog
from relaygate.streaming.shared import SharedState, connect_shared_state
from relaygate.tokens.tokenizer import preload as preload_tokenizer

if TYPE_CHECKING:
    from relaygate.agents.services import AgentServices


@dataclass(slots=True)
class Gateway:
    settings: Settings
    registry: ModelRegistry
    keys: KeyStore
    event_log: EventLog
    bus: Bus
    hooks: Hooks = field(default_factory=Hooks)
    sinks: Sinks = field(default_factory=Sinks)  # every upstream call's outcome goes here
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)
    background: BackgroundRunner = field(default_factory=BackgroundRunner)  # Responses runs
    shared: SharedState | None = None  # Redis, when several instances serve (storage.redis_url)
    stopping: bool = False  # SIGTERM received: not ready, finishing in-flight work
    draining: asyncio.Event = field(default_factory=asyncio.Event)  # grace over: end streams
    pipeline: Pipeline = field(init=False)  # every model call, built by start_gateway
    _agents: AgentServices | None = None
    _agents_starting: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def authenticate(
        self, headers: Mapping[str, str], query_key: str | None = None
    ) -> Principal:
        """The caller: an auth hook's verdict, else the keys (raises AuthenticationFailed)."""
        if self.hooks.auth:
            principal = await self.hooks.authenticate(headers)
            if principal is not None:
                return principal
        return self.keys.authenticate(key_from_headers(headers, query_key))

    async def agents(self) -> AgentServices:
        """Storage, sessions, tools, realtime and messages: started by the first caller."""
        if self._agents is None:
            async with self._agents_starting:
                if self._agents is None:
                    self._agents = await self._start_agents()
        return self._agents

    async def _start_agents(self) -> AgentServices:
        module = await import_module("relaygate.agents.services")
        agents: AgentServices = await module.start_agent_services(
            self.settings,
            self.registry,
            self.pipeline,
            self.keys,
            self.event_log,
            self.bus,
            self.bus if self.shared is not None else None,
            self.metrics.registry,
        )
        return agents

    def drain(self) -> None:
        """The grace period is over: streams end cleanly, waits on upstreams are cut."""
        self.draining.set()
        for provider in self.registry.providers.values():
            provider.interrupt()

    async def close(self) -> None:
        await self.background.close()  # first: a cancelled run still records its end
        if self._agents is not None:
            await self._agents.close()
        for provider in self.registry.providers.values():
            await provider.close()
        if self.shared is not None:
            await self.shared.close()


StepList = Callable[["Gateway"], list[Step]]
"""The pipeline's steps for a gateway, in order (`app.model_call_steps`)."""


async def start_gateway(settings: Settings, steps: StepList) -> Gateway:
    """Build the relay's services; the agent services wait for their first request."""
    providers = build_providers(settings.providers)
    if any(provider.type is ProviderType.MOCK for provider in settings.providers.values()):
        # the mock counts every answer: load the tokenizer before the first request
        await asyncio.to_thread(preload_tokenizer)
    url = settings.storage.redis_url
    shared = connect_shared_state(url) if url else None
    gateway = Gateway(
        settings=settings,
        registry=ModelRegistry(settings, providers),
        keys=KeyStore(settings.keys),
        event_log=shared.event_log if shared is not None else MemoryEventLog(),
        bus=shared.bus if shared is not None else MemoryBus(),
        hooks=Hooks.load(settings.hooks),
        shared=shared,
    )
    gateway.sinks.add(gateway.metrics.record)
    if gateway.hooks.observes_outcomes:
        gateway.sinks.add(gateway.hooks.outcome_sink)
    dispatch = Dispatch(gateway.sinks, gateway.draining, settings.server.fast_path)
    gateway.pipeline = Pipeline(steps(gateway), dispatch)
    return gateway
