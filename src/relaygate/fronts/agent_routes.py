"""The routes of the agent fronts: Responses, sessions, tools, MCP, realtime chat, agent
messages, named agents and workflows, and A2A.

Their modules bring in storage, tools and the sandbox, so each is imported on the first
request to one of its paths (in a thread, so the loop keeps serving): a gateway used only
as a relay never loads them. A route names its handler with a `Lazy` reference — module
and function as separate fields, checked by tests/fronts/test_agent_routes.py, which
imports every one and compares it with the module's real function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from relaygate.lazy_import import import_module

SESSIONS = "relaygate.fronts.sessions"
MESSAGES = "relaygate.fronts.agent_messages"
RESPONSES_STATE = "relaygate.fronts.responses.state"
WS_CHAT = "relaygate.fronts.ws_chat"
TOOLS = "relaygate.fronts.tools"
RUNS = "relaygate.fronts.agent_runs"
WORKFLOW_RUNS = "relaygate.fronts.workflow_runs"
A2A = "relaygate.fronts.a2a"


@dataclass(frozen=True, slots=True)
class Lazy:
    """A function (or ASGI app) of a module imported on first use."""

    module: str
    name: str

    async def load(self) -> Any:
        return getattr(await import_module(self.module), self.name)

    async def handle(self, connection: Any) -> Any:
        """As a request or WebSocket handler (a bound method: Starlette calls it so)."""
        return await (await self.load())(connection)


@dataclass(frozen=True, slots=True)
class LazyAsgi:
    """An ASGI app that is `target`, loaded on first use."""

    target: Lazy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await (await self.target.load())(scope, receive, send)


def _get(path: str, target: Lazy) -> Route:
    return Route(path, target.handle, methods=["GET"])


def _post(path: str, target: Lazy) -> Route:
    return Route(path, target.handle, methods=["POST"])


def _delete(path: str, target: Lazy) -> Route:
    return Route(path, target.handle, methods=["DELETE"])


def agent_routes() -> list[BaseRoute]:
    session = "/api/sessions/{session_id}"
    agent = "/v1/agents/{agent_id}/messages"
    response = "/v1/responses/{response_id}"
    return [
        _post("/v1/responses/compact", Lazy("relaygate.fronts.responses.compact", "compact")),
        _post("/v1/responses", Lazy("relaygate.fronts.responses.create", "create_response")),
        WebSocketRoute(
            "/v1/responses", Lazy("relaygate.fronts.responses.ws", "responses_socket").handle
        ),
        _get(response, Lazy(RESPONSES_STATE, "retrieve")),
        _delete(response, Lazy(RESPONSES_STATE, "delete")),
        _post(f"{response}/cancel", Lazy(RESPONSES_STATE, "cancel")),
        _get(f"{response}/input_items", Lazy(RESPONSES_STATE, "input_items")),
        _post("/api/sessions", Lazy(SESSIONS, "create_session")),
        _get("/api/sessions", Lazy(SESSIONS, "list_sessions")),
        _get(session, Lazy(SESSIONS, "get_session")),
        _delete(session, Lazy(SESSIONS, "delete_session")),
        _post(f"{session}/messages", Lazy(SESSIONS, "post_message")),
        _get(f"{session}/messages", Lazy(SESSIONS, "list_messages")),
        _get(f"{session}/usage", Lazy(SESSIONS, "session_usage")),
        _get(f"{session}/context", Lazy(SESSIONS, "list_context")),
        Route(
            f"{session}/context/{{key}}",
            Lazy(SESSIONS, "context_variable").handle,
            methods=["GET", "PUT", "DELETE"],
        ),
        _get(f"{session}/stream", Lazy("relaygate.fronts.session_stream", "stream_session")),
        _get("/api/tools", Lazy(TOOLS, "list_tools")),
        _post("/api/tools/{name}/invoke", Lazy(TOOLS, "invoke_tool")),
        Route("/mcp", LazyAsgi(Lazy("relaygate.fronts.mcp", "endpoint"))),
        WebSocketRoute("/ws/chat/{conversation_id}", Lazy(WS_CHAT, "chat_socket").handle),
        _get("/health/ws", Lazy(WS_CHAT, "health_ws")),
        _post("/v1/agents/messages", Lazy(MESSAGES, "send_message")),
        _post("/v1/agents/{name}/runs", Lazy(RUNS, "create_run")),
        _get("/v1/agents/runs/{id}", Lazy(RUNS, "get_run")),
        _get("/v1/agents/runs/{id}/events", Lazy(RUNS, "run_events")),
        _post("/v1/workflows/{name}/runs", Lazy(WORKFLOW_RUNS, "create_run")),
        _get("/v1/workflows/runs/{id}", Lazy(WORKFLOW_RUNS, "get_run")),
        _post("/v1/workflows/runs/{id}/cancel", Lazy(WORKFLOW_RUNS, "cancel_run")),
        _post("/v1/workflows/runs/{id}/steps/{step}/approve",
              Lazy(WORKFLOW_RUNS, "approve_step")),
        _post("/v1/workflows/runs/{id}/steps/{step}/retry", Lazy(WORKFLOW_RUNS, "retry_step")),
        _get("/v1/workflows/runs/{id}/events", Lazy(WORKFLOW_RUNS, "run_events")),
        _get("/.well-known/agent-card.json", Lazy(A2A, "directory")),
        _get("/a2a/{name}/.well-known/agent-card.json", Lazy(A2A, "card")),
        _post("/a2a/{name}", Lazy(A2A, "rpc")),
        _get(agent, Lazy(MESSAGES, "list_messages")),
        _get(f"{agent}/stream", Lazy(MESSAGES, "stream_messages")),
        _post(f"{agent}/ack", Lazy(MESSAGES, "acknowledge")),
    ]
