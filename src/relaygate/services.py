"""The gateway's services, built once in the app's lifespan and held on `app.state`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.datastructures import Headers

from relaygate.access.endpoints import family_of
from relaygate.audit.log import AuditLog
from relaygate.budgets.step import BudgetStep, budget_step
from relaygate.config import Settings
from relaygate.errors import PermissionDenied
from relaygate.images.store import ImageStore
from relaygate.lazy_import import import_module
from relaygate.ledger.writer import LedgerWriter
from relaygate.limits.build import limit_step
from relaygate.limits.step import LimitStep
from relaygate.observability.log_export import LogExport, build_log_export
from relaygate.observability.metrics import GatewayMetrics
from relaygate.observability.routing_metrics import RoutingMetrics
from relaygate.pipeline.auth import Access, KeyStore, Principal, key_from_headers
from relaygate.pipeline.background import BackgroundRunner
from relaygate.pipeline.chain import Pipeline, Step
from relaygate.pipeline.dispatch import Dispatch
from relaygate.pipeline.health_checks import run_health_checks
from relaygate.pipeline.hooks import Hooks
from relaygate.pipeline.outcome import Sinks
from relaygate.providers.factory import build_providers
from relaygate.routing.registry import ModelRegistry
from relaygate.routing.shared_breakers import SharedBreakers
from relaygate.streaming.bus import Bus, MemoryBus
from relaygate.streaming.event_log import EventLog, MemoryEventLog
from relaygate.streaming.shared import SharedState, connect_shared_state

if TYPE_CHECKING:
    from relaygate.agents.services import AgentServices
    from relaygate.cache.step import CacheStep
    from relaygate.guardrails.step import GuardStep
    from relaygate.observability.tracing.tracer import Tracing
    from relaygate.prompts.service import Prompts
    from relaygate.store.access import AccessStore
    from relaygate.store.db import Database
    from relaygate.store.prompts import PromptStore

ACCESS_TOPIC = "access"  # on the bus: a key or tenant changed, drop the cached keys
KEY_TTL_SECONDS = 5.0  # one instance: how long a cached key stands (a change here is at once)
SHARED_KEY_TTL_SECONDS = 60.0  # with Redis, changes arrive by pub/sub; this is the backstop


@dataclass(slots=True)
class Gateway:
    settings: Settings
    registry: ModelRegistry
    access: Access
    event_log: EventLog
    bus: Bus
    hooks: Hooks = field(default_factory=Hooks)
    sinks: Sinks = field(default_factory=Sinks)  # every upstream call's outcome goes here
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)
    background: BackgroundRunner = field(default_factory=BackgroundRunner)  # Responses runs
    shared: SharedState | None = None  # Redis, when several instances serve (storage.redis_url)
    ledger: LedgerWriter | None = None  # the usage ledger's sink (ledger.enabled)
    stopping: bool = False  # SIGTERM received: not ready, finishing in-flight work
    draining: asyncio.Event = field(default_factory=asyncio.Event)  # grace over: end streams
    pipeline: Pipeline = field(init=False)  # every model call, built by start_gateway
    audit: AuditLog = field(init=False)  # admin actions, in the database (docs/audit.md)
    _agents: AgentServices | None = None
    _agents_starting: asyncio.Lock = field(default_factory=asyncio.Lock)
    _database: Database | None = None
    _database_opening: asyncio.Lock = field(default_factory=asyncio.Lock)
    _access_store: AccessStore | None = None
    limits: LimitStep | None = None  # when some rate limit can apply (a pipeline step)
    budgets: BudgetStep | None = None  # when some key may have a budget (a pipeline step)
    prompts: Prompts | None = None  # prompt templates (with the admin API; prompts/)
    _prompt_store: PromptStore | None = None
    images: ImageStore | None = None  # generated images served by URL (images/store.py)
    guardrails: GuardStep | None = None  # when some guard is configured (a pipeline step)
    cache: CacheStep | None = None  # the response cache, when some call may be cached
    tracing: Tracing | None = None  # telemetry.traces on: the OpenTelemetry SDK, loaded then
    log_export: LogExport | None = None  # telemetry.logs.exporter: otlp or webhook
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def authenticate(
        self,
        headers: Headers,
        query_key: str | None = None,
        path: str | None = None,
        method: str = "POST",
    ) -> Principal:
        """The caller: an auth hook's verdict, else the keys (raises AuthenticationFailed);
        with `path`, a key scoped to other API families gets 403 `endpoint_not_allowed`."""
        principal = None
        if self.hooks.auth:
            principal = await self.hooks.authenticate(headers)
        if principal is None:
            principal = await self.access.authenticate(key_from_headers(headers, query_key))
        grant = principal.grant
        if path is not None and grant is not None and grant.endpoints is not None:
            family = family_of(path, method)
            if family is not None and not grant.allows_endpoint(family):
                raise PermissionDenied(
                    f"This API key may not use the {family!r} API "
                    f"(it may use: {', '.join(grant.endpoints) or 'none'}).",
                    code="endpoint_not_allowed",
                )
        return principal

    async def database(self) -> Database:
        """The SQL database (already migrated), opened by the first caller."""
        if self._database is None:
            async with self._database_opening:
                if self._database is None:
                    module = await import_module("relaygate.store.db")
                    self._database = module.Database(self.settings.storage.database_url)
        assert self._database is not None
        return self._database

    async def access_store(self) -> AccessStore:
        """The tenants and keys in the database."""
        if self._access_store is None:
            module = await import_module("relaygate.store.access")
            self._access_store = module.AccessStore(await self.database())
        assert self._access_store is not None
        return self._access_store

    async def prompt_store(self) -> PromptStore:
        """The prompt templates in the database."""
        if self._prompt_store is None:
            module = await import_module("relaygate.store.prompts")
            self._prompt_store = module.PromptStore(await self.database())
        assert self._prompt_store is not None
        return self._prompt_store

    async def access_changed(self) -> None:
        """A key or tenant was changed here: drop the cached keys here and on every instance."""
        keys = self.access.database_keys
        if keys is not None:
            keys.clear()
        await self.bus.publish(ACCESS_TOPIC, {"changed": True})

    def start(self) -> None:
        """Background work: with database keys, listen for other instances' key changes."""
        if self.access.database_keys is not None:
            self._tasks.append(asyncio.create_task(self._follow_access_changes()))
        if self.prompts is not None:
            self._tasks.append(asyncio.create_task(self.prompts.follow_changes()))

    async def _follow_access_changes(self) -> None:
        keys = self.access.database_keys
        assert keys is not None
        async with self.bus.subscribe(ACCESS_TOPIC) as messages:
            async for _ in messages:
                keys.clear()

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
            await self.database(),
            self.event_log,
            self.bus,
            self.bus if self.shared is not None else None,
            self.metrics.registry,
        )
        if self.guardrails is not None:
            agents.tools.guard = self.guardrails.tool_checks()
        return agents

    def drain(self) -> None:
        """The grace period is over: streams end cleanly, waits on upstreams are cut."""
        self.draining.set()
        for provider in self.registry.providers.values():
            provider.interrupt()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.background.close()  # first: a cancelled run still records its end
        if self.limits is not None:
            self.limits.close()
        if self.budgets is not None:
            await self.budgets.close()
        if self.cache is not None:  # answers still being stored, before Redis closes
            await self.cache.written()
        if self._agents is not None:
            await self._agents.close()
        if self.ledger is not None:  # after every outcome source, before the database
            await self.ledger.close()
        if self._database is not None:
            await self._database.close()
        for provider in self.registry.providers.values():
            await provider.close()
        if self.shared is not None:
            await self.shared.close()
        if self.log_export is not None:
            await self.log_export.close()
        if self.tracing is not None:  # last: the spans of everything above are flushed
            await self.tracing.close()


def _start_routing(gateway: Gateway, dispatch: Dispatch) -> None:
    """Routed groups: their metrics, breakers shared through Redis, health checks."""
    router = gateway.registry.router
    if not router.deployments:
        return
    RoutingMetrics(gateway.metrics.registry, router)
    if gateway.shared is not None:
        shared = SharedBreakers(router, gateway.bus, gateway.shared.redis,
                                router.settings.redis_prefix)
        gateway._tasks.append(asyncio.create_task(shared.run()))
    if router.settings.health_checks.interval_seconds > 0:
        gateway._tasks.append(asyncio.create_task(run_health_checks(router, dispatch.attempt)))


def _watch(gateway: Gateway, dispatch: Dispatch) -> None:
    """Gauges read at scrape time: in-flight calls, the turn pool's queue, background runs
    (the ledger's queue is `relaygate_ledger_rows_queued`, ledger/writer.py)."""
    metrics = gateway.metrics
    metrics.watch("relaygate_in_flight_calls", "Upstream calls under way.",
                  lambda: dispatch.started - metrics.finished)
    metrics.watch("relaygate_background_runs_running", "Background Responses running here.",
                  lambda: len(gateway.background))

    def turns_queued() -> float:
        agents = gateway._agents
        return agents.realtime.pool.depth if agents is not None else 0

    metrics.watch("relaygate_turn_pool_queue_depth", "Realtime turns waiting for a worker.",
                  turns_queued)


StepList = Callable[["Gateway"], list[Step]]
"""The pipeline's steps for a gateway, in order (`app.model_call_steps`)."""


async def start_gateway(settings: Settings, steps: StepList) -> Gateway:
    """Build the relay's services; the agent services wait for their first request."""
    providers = build_providers(settings.providers)
    url = settings.storage.redis_url
    shared = connect_shared_state(url) if url else None
    gateway = Gateway(
        settings=settings,
        registry=ModelRegistry(settings, providers),
        access=Access(KeyStore(settings.keys)),
        event_log=shared.event_log if shared is not None else MemoryEventLog(),
        bus=shared.bus if shared is not None else MemoryBus(),
        hooks=Hooks.load(settings.hooks),
        shared=shared,
    )
    gateway.audit = AuditLog(gateway.database)
    if settings.admin.key is not None:  # keys in the database, managed by the admin API
        key_cache = await import_module("relaygate.access.key_cache")
        ttl = SHARED_KEY_TTL_SECONDS if shared is not None else KEY_TTL_SECONDS
        gateway.access = Access(gateway.access.config_keys,
                                key_cache.KeyCache(gateway.access_store, ttl))
    if settings.admin.key is not None and settings.prompts.enabled:
        prompts = await import_module("relaygate.prompts.service")
        ttl = settings.prompts.cache_seconds or (
            SHARED_KEY_TTL_SECONDS if shared is not None else KEY_TTL_SECONDS)
        gateway.prompts = prompts.Prompts(gateway.prompt_store, gateway.bus, ttl)
    gateway.images = ImageStore(settings.images, shared.redis if shared is not None else None)
    gateway.limits = limit_step(gateway)
    if gateway.access.has_budgets:
        gateway.budgets = budget_step(gateway)
    if settings.guardrails:  # loads the detectors' libraries only when a guard is configured
        build = await import_module("relaygate.guardrails.build")
        gateway.guardrails = build.guard_step(settings, gateway.metrics.guard_hits)
    if settings.cache.on:  # the cache's modules load only when some call may be cached
        build_cache = await import_module("relaygate.cache.build")
        gateway.cache = build_cache.cache_step(gateway)
    gateway.sinks.add(gateway.metrics.record)
    if settings.ledger.enabled:
        gateway.ledger = LedgerWriter(settings.ledger, gateway.database, gateway.metrics.registry)
        gateway.sinks.add(gateway.ledger.record)
        gateway.ledger.start()
    if gateway.hooks.observes_outcomes:
        gateway.sinks.add(gateway.hooks.outcome_sink)
    traces = settings.telemetry.traces.resolved()
    gateway.log_export = await build_log_export(settings.telemetry.logs, traces.service_name)
    if gateway.log_export is not None:
        gateway.log_export.start()
    if traces.enabled:  # only then is the OpenTelemetry SDK imported
        tracer = await import_module("relaygate.observability.tracing.tracer")
        gateway.tracing = tracer.Tracing(traces)
    tracing = gateway.tracing
    dispatch = Dispatch(gateway.sinks, gateway.draining, settings.server.fast_path,
                        tracing.attempt if tracing is not None else None)
    _start_routing(gateway, dispatch)
    _watch(gateway, dispatch)
    gateway.pipeline = Pipeline(steps(gateway), dispatch,
                                tracing.step if tracing is not None else None,
                                tracing.recording if tracing is not None else None)
    if gateway.guardrails is not None:
        gateway.guardrails.use_pipeline(gateway.pipeline)  # for judge models
    gateway.start()
    return gateway
