"""The routes of the agent fronts: Responses, sessions, tools, MCP, realtime chat and agent
messages.

Their modules bring in storage, tools and the sandbox, so each is imported on the first
request to one of its paths (in a thread, so the loop keeps serving): a gateway used only
as a relay never loads them. The relay fronts keep their routes in their own modules.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from relaygate.lazy_import import import_module

SESSIONS = "relaygate.fronts.sessions"
MESSAGES = "relaygate.fronts.agent_messages"
RESPONSES_STATE = "relaygate.fronts.responses.state"


async def _load(reference: str) -> Any:
    """The object named `module:attribute`, importing the module on first use."""
    module_name, _, attribute = reference.partition(":")
    return getattr(await import_module(module_name), attribute)


def _handler(reference: str) -> Any:
    """A request (or WebSocket) handler that is the function named `module:function`."""

    async def handler(connection: Any) -> Any:
        return await (await _load(reference))(connection)

    return handler


class _Asgi:
    """An ASGI app that is the instance named `module:attribute`."""

    def __init__(self, reference: str) -> None:
        self._reference = reference

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await (await _load(self._reference))(scope, receive, send)


def _get(path: str, reference: str) -> Route:
    return Route(path, _handler(reference), methods=["GET"])


def _post(path: str, reference: str) -> Route:
    return Route(path, _handler(reference), methods=["POST"])


def _delete(path: str, reference: str) -> Route:
    return Route(path, _handler(reference), methods=["DELETE"])


def agent_routes() -> list[BaseRoute]:
    session = "/api/sessions/{session_id}"
    agent = "/v1/agents/{agent_id}/messages"
    response = "/v1/responses/{response_id}"
    return [
        _post("/v1/responses/compact", "relaygate.fronts.responses.compact:compact"),
        _post("/v1/responses", "relaygate.fronts.responses.create:create_response"),
        WebSocketRoute(
            "/v1/responses", _handler("relaygate.fronts.responses.ws:responses_socket")
        ),
        _get(response, f"{RESPONSES_STATE}:retrieve"),
        _delete(response, f"{RESPONSES_STATE}:delete"),
        _post(f"{response}/cancel", f"{RESPONSES_STATE}:cancel"),
        _get(f"{response}/input_items", f"{RESPONSES_STATE}:input_items"),
        _post("/api/sessions", f"{SESSIONS}:create_session"),
        _get("/api/sessions", f"{SESSIONS}:list_sessions"),
        _get(session, f"{SESSIONS}:get_session"),
        _delete(session, f"{SESSIONS}:delete_session"),
        _post(f"{session}/messages", f"{SESSIONS}:post_message"),
        _get(f"{session}/messages", f"{SESSIONS}:list_messages"),
        _get(f"{session}/usage", f"{SESSIONS}:session_usage"),
        _get(f"{session}/context", f"{SESSIONS}:list_context"),
        Route(
            f"{session}/context/{{key}}",
            _handler(f"{SESSIONS}:context_variable"),
            methods=["GET", "PUT", "DELETE"],
        ),
        _get(f"{session}/stream", "relaygate.fronts.session_stream:stream_session"),
        _get("/api/tools", "relaygate.fronts.tools:list_tools"),
        _post("/api/tools/{name}/invoke", "relaygate.fronts.tools:invoke_tool"),
        Route("/mcp", _Asgi("relaygate.fronts.mcp:endpoint")),
        WebSocketRoute(
            "/ws/chat/{conversation_id}", _handler("relaygate.fronts.ws_chat:chat_socket")
        ),
        _get("/health/ws", "relaygate.fronts.ws_chat:health_ws"),
        _post("/v1/agents/messages", f"{MESSAGES}:send_message"),
        _get(agent, f"{MESSAGES}:list_messages"),
        _get(f"{agent}/stream", f"{MESSAGES}:stream_messages"),
        _post(f"{agent}/ack", f"{MESSAGES}:acknowledge"),
    ]
