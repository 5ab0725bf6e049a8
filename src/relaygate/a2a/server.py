"""`A2AServer`: the a2a-sdk's JSON-RPC dispatcher and request handler over one executor
that runs named agents. One handler serves every agent: the route has authenticated the
caller and found the agent, and puts both in the call context (`CallerContext`). Tasks
are kept in the database (task_store.py: the SDK's versioned task store on our tables), so
any instance reads or cancels a task wherever it runs; each is owned by the caller's tenant
and the agent (another tenant's task id, or one asked of another agent, is "not found").
With a shared bus (Redis) a task's events also reach the other instances
(event_stream.py), so `tasks/resubscribe` works anywhere; without one, only on the instance
running it. Both JSON-RPC method sets are answered: A2A 1.0's (`SendMessage`, `SendStreamingMessage`, `GetTask`,
`CancelTask`) and 0.3's (`message/send`, `message/stream`, `tasks/get`, `tasks/cancel`)."""

from __future__ import annotations

import warnings
from collections.abc import AsyncGenerator

from a2a.server.context import ServerCallContext
from a2a.server.events import Event
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes.common import DefaultServerCallContextBuilder
from a2a.server.routes.jsonrpc_dispatcher import JsonRpcDispatcher
from a2a.types.a2a_pb2 import GetTaskRequest, SubscribeToTaskRequest
from a2a.utils.constants import PROTOCOL_VERSION_CURRENT, VERSION_HEADER
from a2a.utils.errors import UnsupportedOperationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response

from relaygate.a2a.cards import agent_card
from relaygate.a2a.executor import AGENT, ORIGIN, NamedAgentExecutor
from relaygate.a2a.task_store import TERMINAL, DatabaseTasks
from relaygate.agents.named.catalog import AgentCatalog
from relaygate.agents.named.spec import AgentSpec
from relaygate.agents.sessions.service import SessionService
from relaygate.agents.sweeper import Sweeper
from relaygate.pipeline.background import BackgroundRunner
from relaygate.pipeline.call import Origin
from relaygate.store.a2a_tasks import A2ATaskStore
from relaygate.store.db import Database
from relaygate.streaming.bus import Bus

SCOPE_KEY = "relaygate.a2a"  # request.scope: (origin, agent name), set by the route


def owner_of(context: ServerCallContext) -> str:
    """The owner of a task: the caller's tenant and the agent (`<agent>@<tenant>`; an agent
    name has no `@`), so a task is found only through the agent that ran it."""
    origin: Origin = context.state[ORIGIN]
    return f"{context.state[AGENT]}@{origin.principal.tenant}"


class CallerContext(DefaultServerCallContextBuilder):
    """The SDK's call context, carrying the caller and the agent the route found."""

    def build(self, request: Request) -> ServerCallContext:
        context = super().build(request)
        origin, name = request.scope[SCOPE_KEY]
        context.state[ORIGIN] = origin
        context.state[AGENT] = name
        headers = context.state.get("headers", {})  # the SDK reads A2A-Version there
        context.state["headers"] = {name: value for name, value in headers.items()
                                    if not _secret(name)}  # the caller's key stays out
        return context


def _secret(header: str) -> bool:
    name = header.lower()
    return name in ("authorization", "cookie") or "key" in name or "token" in name


class SingleInstanceHandler(DefaultRequestHandler):
    """Without a shared bus a task's events reach only the instance running it: there, a
    resubscription is served as usual; elsewhere it is refused at once (the SDK would wait
    on events that never come), and `tasks/get` still reads the task."""

    async def on_subscribe_to_task(self, params: SubscribeToTaskRequest,
                                   context: ServerCallContext) -> AsyncGenerator[Event, None]:
        store = self.task_store
        if isinstance(store, DatabaseTasks) and params.id not in store.here:
            task = await self.on_get_task(GetTaskRequest(id=params.id), context)  # or 404
            if task is not None and task.status.state not in TERMINAL:  # else: the SDK's
                raise UnsupportedOperationError(
                    message=f"Task {params.id} is not running on this gateway instance: its "
                    "events stream only where it runs unless the gateways share Redis "
                    "(storage.redis_url). tasks/get reads it here.")
        async for event in super().on_subscribe_to_task(params, context):
            yield event


class A2AServer:
    def __init__(self, catalog: AgentCatalog, sessions: SessionService, database: Database,
                 shared_bus: Bus | None, *, task_ttl_seconds: float) -> None:
        card = agent_card("http://localhost", "agent", AgentSpec(model="any"))  # capabilities
        tasks = DatabaseTasks(A2ATaskStore(database), owner_of)
        executor = NamedAgentExecutor(catalog, sessions)
        if shared_bus is not None:
            from relaygate.a2a.event_stream import BusEvents

            self.handler = DefaultRequestHandler(agent_executor=executor, task_store=tasks,
                                                 agent_card=card,
                                                 event_stream=BusEvents(shared_bus))
        else:
            with warnings.catch_warnings():  # no shared bus: events stay on this instance
                warnings.filterwarnings("ignore", message=".*without an event_stream.*")
                self.handler = SingleInstanceHandler(agent_executor=executor,
                                                     task_store=tasks, agent_card=card)
        self.dispatcher = JsonRpcDispatcher(
            request_handler=self.handler, context_builder=CallerContext(),
            enable_v0_3_compat=True,
        )
        self.background = BackgroundRunner()  # mailbox hand-offs waiting for their answer
        # ended tasks are deleted `a2a.task_ttl_seconds` after their last change
        self._sweeper = Sweeper("ended a2a tasks", lambda: tasks.sweep(task_ttl_seconds),
                                max(1.0, min(task_ttl_seconds / 4, 3600.0)),
                                recoverable=(OSError, SQLAlchemyError))
        self._sweeper.start()

    async def handle(self, request: Request, origin: Origin, name: str) -> Response:
        """Answer one JSON-RPC request for agent `name` on behalf of `origin`."""
        request.scope[SCOPE_KEY] = (origin, name)
        return await self.dispatcher.handle_requests(request)

    def call_context(self, origin: Origin, name: str) -> ServerCallContext:
        """A call context for a call made here, not over HTTP (the mailbox's hand-off)."""
        return ServerCallContext(state={ORIGIN: origin, AGENT: name,
                                        "headers": {VERSION_HEADER: PROTOCOL_VERSION_CURRENT}})

    async def close(self) -> None:
        """Stop the sweeper, then the SDK's running tasks (their producer and consumer
        tasks: left to the loop's end, they could keep the process from exiting), then the
        mailbox hand-offs waiting on them."""
        await self._sweeper.stop()
        await self.handler.aclose()
        await self.background.close()
