"""The Anthropic Messages provider (x-api-key, anthropic-version), canonical and byte relay."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping

import orjson

from relaygate.config import ProviderSettings
from relaygate.errors import GatewayError, UpstreamError
from relaygate.providers.base import RawReply, WireFormat
from relaygate.providers.failures import decoded_result, upstream_failure
from relaygate.providers.http import HttpExecutor, HttpReply
from relaygate.tokens.stream_counter import ensure_usage, with_usage
from relaygate.translate.anthropic.encode import encode_request
from relaygate.translate.anthropic.response import decode_response
from relaygate.translate.anthropic.stream import EventDecoder
from relaygate.types import ErrorEvent, ModelCall, ModelResult, StreamEvent

DEFAULT_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"


def error_details(body: bytes) -> tuple[str | None, str | None]:
    """(message, error type) from Anthropic's `{"type": "error", "error": {...}}` body."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace").strip()
        return (text[:500] or None), None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        kind = error.get("type")
        return str(error.get("message") or ""), str(kind) if kind else None
    return None, None


class AnthropicProvider:
    """Messages over HTTP; relays bytes when the front speaks Messages too."""

    relay_format = WireFormat.ANTHROPIC

    def __init__(self, name: str, settings: ProviderSettings) -> None:
        self.name = name
        base_url = (settings.base_url or DEFAULT_BASE_URL).rstrip("/").removesuffix("/v1")
        self._url = f"{base_url}/v1/messages"
        self._count_url = f"{base_url}/v1/messages/count_tokens"
        headers = {
            "Content-Type": "application/json",
            "anthropic-version": ANTHROPIC_VERSION,
            **settings.headers,
        }
        if settings.api_key:
            headers["x-api-key"] = settings.api_key
        self._headers = headers
        self._http = HttpExecutor.for_provider(name, settings)

    def _headers_for(
        self, request_id: str = "", forwarded: Mapping[str, str] | None = None
    ) -> Mapping[str, str]:
        """Our headers, plus the request id and what the client asked to forward
        (`anthropic-beta`); the key and version are ours and cannot be overridden."""
        if not request_id and not forwarded:
            return self._headers
        headers = {**(forwarded or {}), **self._headers}
        if request_id:
            headers["X-Request-ID"] = request_id
        return headers

    def _failure(self, reply: HttpReply) -> GatewayError:
        message, kind = error_details(reply.body)
        code = None if reply.status == 429 else kind
        return upstream_failure(self.name, reply.status, message, reply.headers, code)

    # --- canonical path -----------------------------------------------------------

    async def send(
        self, call: ModelCall, upstream_model: str, forwarded: Mapping[str, str] | None = None
    ) -> ModelResult:
        body = encode_request(call, upstream_model)
        headers = self._headers_for("", forwarded)
        reply = await self._http.post_json(self._url, orjson.dumps(body), headers, self._failure)
        result = decoded_result(self.name, reply.body, decode_response)
        result.model = result.model or upstream_model
        result.created = int(time.time())
        return ensure_usage(result, call, upstream_model)

    def stream(
        self, call: ModelCall, upstream_model: str, forwarded: Mapping[str, str] | None = None
    ) -> AsyncIterator[StreamEvent]:
        """The answer's events; when the upstream sends no usage, ours is added."""
        return with_usage(self._events(call, upstream_model, forwarded), call, upstream_model)

    async def _events(
        self, call: ModelCall, upstream_model: str, forwarded: Mapping[str, str] | None
    ) -> AsyncIterator[StreamEvent]:
        body = encode_request(call, upstream_model)
        body["stream"] = True
        headers = self._headers_for("", forwarded)
        async with self._http.open_stream(
            self._url, orjson.dumps(body), headers, self._failure
        ) as response:
            decoder = EventDecoder()
            async for upstream_event in self._http.sse_json(response):
                for item in decoder.decode(upstream_event):
                    yield item
                    if isinstance(item, ErrorEvent):
                        return
                if decoder.finished:
                    return
            yield ErrorEvent(
                f"The upstream provider '{self.name}' ended the stream before message_stop."
            )

    # --- the fast path: bytes in, bytes out -----------------------------------------

    async def relay(
        self, body: bytes, upstream_model: str, request_id: str, forwarded: Mapping[str, str]
    ) -> RawReply:
        headers = self._headers_for(request_id, forwarded)
        reply = await self._http.post_json(self._url, body, headers, self._failure)
        return RawReply(200, reply.body, reply.headers["content-type"])

    def relay_stream(
        self, body: bytes, upstream_model: str, request_id: str, forwarded: Mapping[str, str]
    ) -> AsyncIterator[bytes]:
        headers = self._headers_for(request_id, forwarded)
        return self._http.relay_sse(self._url, body, headers, self._failure)

    async def count_tokens(
        self, body: bytes, request_id: str, forwarded: Mapping[str, str] | None = None
    ) -> int:
        """Anthropic's own count for a `count_tokens` body (exact, unlike local estimates)."""
        headers = self._headers_for(request_id, forwarded)
        reply = await self._http.post_json(self._count_url, body, headers, self._failure)
        try:
            count = orjson.loads(reply.body)["input_tokens"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise UpstreamError(
                f"The upstream provider '{self.name}' returned a malformed token count."
            ) from exc
        if not isinstance(count, int):
            raise UpstreamError(
                f"The upstream provider '{self.name}' returned a malformed token count."
            )
        return count

    def interrupt(self) -> None:
        self._http.interrupt()

    async def close(self) -> None:
        await self._http.close()
