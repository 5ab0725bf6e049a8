"""`GatewayAgentClient`: Responses, sessions and agent messages over one pooled
`httpx.AsyncClient` (every call shares its connections)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any

import httpx
import orjson

from relaygate.client.errors import GatewayClientError
from relaygate.client.types import CompletedResponse, StreamEvent
from relaygate.errors import MalformedStream
from relaygate.streaming.sse import SSEParser

DEFAULT_BASE_URL = "http://127.0.0.1:8080"


def output_text(response: dict[str, Any]) -> str:
    """The text of every `output_text` part of a Response's message items, joined."""
    return "".join(
        part.get("text", "")
        for item in response.get("output") or []
        if item.get("type") == "message"
        for part in item.get("content") or []
        if part.get("type") == "output_text"
    )


def _error_from(response: httpx.Response) -> GatewayClientError:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return GatewayClientError(
            str(error.get("message") or response.reason_phrase),
            status=response.status_code,
            type=error.get("type"),
            code=error.get("code"),
            param=error.get("param"),
            body=body,
        )
    text = response.text[:500] or response.reason_phrase
    return GatewayClientError(text, status=response.status_code, body=body)


class GatewayAgentClient:
    """An async client for one gateway; use it as `async with`, or call `aclose()`.

    `api_key` is sent as `Authorization: Bearer`; leave it out while the gateway is open.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        *,
        timeout: float = 120.0,
        max_connections: int = 20,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(max_connections=max_connections,
                                max_keepalive_connections=max_connections),
            transport=transport,
        )

    async def __aenter__(self) -> GatewayAgentClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- plumbing -------------------------------------------------------------------

    async def _request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        try:
            response = await self._http.request(method, path, json=json, params=params)
        except httpx.HTTPError as exc:
            raise GatewayClientError(f"{method} {path} failed: {exc}") from exc
        if response.status_code >= 400:
            raise _error_from(response)
        return orjson.loads(response.content) if response.content else None

    async def _events(self, method: str, path: str, json: Any) -> AsyncIterator[StreamEvent]:
        """POST/GET that answers with Server-Sent Events; yields each as a StreamEvent."""
        try:
            async with self._http.stream(method, path, json=json) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise _error_from(response)
                parser = SSEParser()
                async for chunk in response.aiter_bytes():
                    for event in parser.feed(chunk):
                        parsed = _stream_event(event.event, event.data, event.id)
                        if parsed is not None:
                            yield parsed
                for event in parser.close():
                    parsed = _stream_event(event.event, event.data, event.id)
                    if parsed is not None:
                        yield parsed
        except (httpx.HTTPError, MalformedStream) as exc:
            raise GatewayClientError(f"{method} {path} failed: {exc}") from exc

    # --- models and tools -------------------------------------------------------------

    async def list_models(self) -> list[str]:
        body = await self._request("GET", "/v1/models")
        return [model["id"] for model in body["data"]]

    async def list_tools(self) -> list[dict[str, Any]]:
        """The gateway-hosted tools this key may use (name, description, parameters)."""
        body = await self._request("GET", "/api/tools")
        tools: list[dict[str, Any]] = body["tools"]
        return tools

    # --- Responses ----------------------------------------------------------------------

    async def complete_response(
        self, model: str, input_messages: str | Sequence[dict[str, Any]], **opts: Any
    ) -> CompletedResponse:
        """`POST /v1/responses`; `opts` are any other Responses fields (tools,
        instructions, previous_response_id, max_output_tokens…)."""
        body = {"model": model, "input": _input(input_messages), **opts, "stream": False}
        response: dict[str, Any] = await self._request("POST", "/v1/responses", json=body)
        return {"text": output_text(response), "response": response,
                "usage": response.get("usage") or {}}

    async def stream_response(
        self, model: str, input_messages: str | Sequence[dict[str, Any]], **opts: Any
    ) -> AsyncIterator[StreamEvent]:
        """`POST /v1/responses` with `stream: true`: the Responses events as they come
        (`response.output_text.delta`, …, `response.completed`)."""
        body = {"model": model, "input": _input(input_messages), **opts, "stream": True}
        async for event in self._events("POST", "/v1/responses", body):
            yield event

    # --- sessions -----------------------------------------------------------------------

    async def create_session(
        self,
        model: str,
        *,
        system: str | None = None,
        tools: Sequence[str | dict[str, Any]] = (),
        metadata: dict[str, str] | None = None,
        **opts: Any,
    ) -> dict[str, Any]:
        """`POST /api/sessions`; `tools` are gateway tool names or function tools."""
        body: dict[str, Any] = {"model": model, "tools": list(tools), **opts}
        if system is not None:
            body["system"] = system
        if metadata:
            body["metadata"] = metadata
        session: dict[str, Any] = await self._request("POST", "/api/sessions", json=body)
        return session

    async def get_session(self, session_id: str) -> dict[str, Any]:
        session: dict[str, Any] = await self._request("GET", f"/api/sessions/{session_id}")
        return session

    async def list_sessions(self, limit: int = 20) -> list[dict[str, Any]]:
        body = await self._request("GET", "/api/sessions", params={"limit": limit})
        sessions: list[dict[str, Any]] = body["data"]
        return sessions

    async def session_messages(self, session_id: str, limit: int = 100) -> list[dict[str, Any]]:
        body = await self._request("GET", f"/api/sessions/{session_id}/messages",
                                   params={"limit": limit})
        messages: list[dict[str, Any]] = body["data"]
        return messages

    async def send_session_message(
        self, session_id: str, content: str | list[dict[str, Any]], *, model: str | None = None
    ) -> dict[str, Any]:
        """One turn, answered whole: `{message, usage, …}` once it is stored."""
        body = _session_post(content, model, stream=False)
        turn: dict[str, Any] = await self._request(
            "POST", f"/api/sessions/{session_id}/messages", json=body
        )
        return turn

    async def stream_session_message(
        self, session_id: str, content: str | list[dict[str, Any]], *, model: str | None = None
    ) -> AsyncIterator[StreamEvent]:
        """One turn, streamed: `chunk`, `tool_call`, `tool_result`, `message.completed`."""
        body = _session_post(content, model, stream=True)
        async for event in self._events("POST", f"/api/sessions/{session_id}/messages", body):
            yield event

    async def delete_session(self, session_id: str) -> None:
        await self._request("DELETE", f"/api/sessions/{session_id}")

    # --- agent messages -------------------------------------------------------------------

    async def send_agent_message(
        self,
        from_agent: str,
        to_agent: str,
        content: Any,
        *,
        conversation_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Hand `content` (text or any JSON) to another agent's mailbox; durable once this returns."""
        body: dict[str, Any] = {"from_agent": from_agent, "to_agent": to_agent, "content": content}
        if conversation_id is not None:
            body["conversation_id"] = conversation_id
        if metadata:
            body["metadata"] = metadata
        message: dict[str, Any] = await self._request("POST", "/v1/agents/messages", json=body)
        return message

    async def receive_agent_messages(
        self, agent_id: str, *, after: int = 0, wait: float = 0.0, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Unacknowledged messages after the cursor; `wait` seconds of long-polling when none."""
        params: dict[str, Any] = {"after": after, "limit": limit}
        if wait:
            params["wait"] = wait
        body = await self._request("GET", f"/v1/agents/{agent_id}/messages", params=params)
        messages: list[dict[str, Any]] = body["data"]
        return messages

    async def ack_agent_messages(
        self, agent_id: str, *, ids: Sequence[str] = (), up_to: int | None = None
    ) -> int:
        """Mark messages done (by id, or every one handed out up to a sequence number)."""
        body: dict[str, Any] = {"ids": list(ids)}
        if up_to is not None:
            body["up_to"] = up_to
        answer = await self._request("POST", f"/v1/agents/{agent_id}/messages/ack", json=body)
        count: int = answer["acknowledged"]
        return count


def _input(input_messages: str | Sequence[dict[str, Any]]) -> str | list[dict[str, Any]]:
    return input_messages if isinstance(input_messages, str) else list(input_messages)


def _session_post(
    content: str | list[dict[str, Any]], model: str | None, *, stream: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {"content": content, "stream": stream}
    if model is not None:
        body["model"] = model
    return body


def _stream_event(name: str | None, data: str, event_id: str | None) -> StreamEvent | None:
    if data == "[DONE]":
        return None
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        payload = {"text": data}
    if not isinstance(payload, dict):
        payload = {"value": payload}
    kind = name or str(payload.get("type", "message"))
    return {"event": kind, "data": payload, "id": event_id}
