"""The agent services: storage, sessions, tools, realtime chat, agent messages, MCP export,
named agents (with delegation and A2A), workflows, and the leases of background responses
(whose first sweep ends the runs a stopped instance left behind).

They are started on the first request that needs one (`Gateway.agents()`), not at start-up:
SQLAlchemy, jsonschema and the sandbox cost a gateway used only as a relay ~35 MiB."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from relaygate.a2a.on_demand import A2AOnDemand
from relaygate.agents.mcp.on_demand import McpExportOnDemand
from relaygate.agents.messages import Mailbox
from relaygate.agents.named.catalog import AgentCatalog
from relaygate.agents.named.delegation import Delegates
from relaygate.agents.sessions.service import SessionService
from relaygate.agents.tools.service import ToolService
from relaygate.agents.tools.setup import start_tools
from relaygate.agents.workflows.leaves import Leaves
from relaygate.agents.workflows.runner import WorkflowRunner
from relaygate.config import Settings
from relaygate.pipeline.chain import Pipeline
from relaygate.pipeline.run_leases import RunLeases
from relaygate.realtime.service import Realtime
from relaygate.routing.registry import ModelRegistry
from relaygate.store.db import Database
from relaygate.streaming.bus import Bus
from relaygate.streaming.event_log import EventLog


@dataclass(slots=True)
class AgentServices:
    database: Database
    mailbox: Mailbox  # agent-to-agent messages
    realtime: Realtime  # WebSocket chat: hub, turn pool
    sessions: SessionService  # conversations: history, memory, TTL sweeper
    tools: ToolService  # registry, policies, sandbox, workspaces
    mcp_export: McpExportOnDemand  # the registry served at /mcp (built on first use)
    leases: RunLeases  # background responses: this process's runs, others' orphans
    agents: AgentCatalog  # named agents: the YAML's and the admin API's
    workflows: WorkflowRunner  # durable workflow runs under leases
    a2a: A2AOnDemand  # the named agents as A2A agents (the SDK loaded on first use)

    async def close(self) -> None:
        await self.a2a.close()
        await self.workflows.close()
        await self.leases.close()
        await self.mcp_export.close()
        await self.tools.close()
        await self.sessions.close()
        await self.realtime.close()


async def start_agent_services(
    settings: Settings,
    registry: ModelRegistry,
    pipeline: Pipeline,
    database: Database,
    event_log: EventLog,
    bus: Bus,
    shared_bus: Bus | None,
    metrics_registry: CollectorRegistry,
) -> AgentServices:
    """Build and start every agent service on an already migrated database."""
    tools = await start_tools(settings.tools, metrics_registry)
    sessions = SessionService(
        settings.sessions,
        registry,
        pipeline,
        database,
        event_log,
        tools=tools,
        loop=settings.tools.loop,
    )
    sessions.start()
    realtime = Realtime(settings.realtime, registry, sessions, database, shared_bus=shared_bus)
    realtime.start()
    leases = RunLeases(database, event_log, settings.responses.lease_seconds)
    await leases.start()
    catalog = AgentCatalog(settings.agents, database)
    sessions.turns.delegates = Delegates(settings.delegation, settings.a2a, catalog, sessions)
    workflows = WorkflowRunner(settings.workflows, database,
                               Leaves(catalog, sessions, tools, pipeline, bus), event_log,
                               settings.responses.lease_seconds)
    await workflows.start()
    return AgentServices(
        database=database,
        mailbox=Mailbox(database, bus),
        realtime=realtime,
        sessions=sessions,
        tools=tools,
        mcp_export=McpExportOnDemand(tools),
        leases=leases,
        agents=catalog,
        workflows=workflows,
        a2a=A2AOnDemand(catalog, sessions, database, shared_bus,
                        task_ttl_seconds=settings.a2a.task_ttl_seconds),
    )
