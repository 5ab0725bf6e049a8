"""The OpenAI Responses provider: `POST {base_url}/responses` as an upstream, for models
served only there. Stateless upstream use: every call sends the whole context with
`store: false`; the gateway keeps its own state."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping

import orjson

from relaygate.config import ProviderSettings
from relaygate.errors import GatewayError
from relaygate.providers.failures import decoded_result, upstream_failure
from relaygate.providers.http import HttpExecutor, HttpReply
from relaygate.providers.openai import DEFAULT_BASE_URL, error_message
from relaygate.tokens.stream_counter import ensure_usage, with_usage
from relaygate.translate.responses.upstream import StreamDecoder, decode_response, encode_request
from relaygate.types import ErrorEvent, ModelCall, ModelResult, StreamEvent


class OpenAIResponsesProvider:
    """OpenAI's Responses API over the shared HTTP executor."""

    def __init__(self, name: str, settings: ProviderSettings) -> None:
        self.name = name
        self._url = f"{(settings.base_url or DEFAULT_BASE_URL).rstrip('/')}/responses"
        headers = {"Content-Type": "application/json", **settings.headers}
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key}"
        self._headers = headers
        self._http = HttpExecutor.for_provider(name, settings)

    def _failure(self, reply: HttpReply) -> GatewayError:
        message, code = error_message(reply.body)
        return upstream_failure(self.name, reply.status, message, reply.headers, code)

    async def send(
        self, call: ModelCall, upstream_model: str, forwarded: Mapping[str, str] | None = None
    ) -> ModelResult:
        body = encode_request(call, upstream_model)
        body.pop("stream", None)
        reply = await self._http.post_json(
            self._url, orjson.dumps(body), self._headers, self._failure
        )
        result = decoded_result(self.name, reply.body, decode_response)
        result.model = result.model or upstream_model
        result.created = result.created or int(time.time())
        return ensure_usage(result, call, upstream_model)

    def stream(
        self, call: ModelCall, upstream_model: str, forwarded: Mapping[str, str] | None = None
    ) -> AsyncIterator[StreamEvent]:
        """The answer's events; when the upstream sends no usage, ours is added."""
        return with_usage(self._events(call, upstream_model), call, upstream_model)

    async def _events(self, call: ModelCall, upstream_model: str) -> AsyncIterator[StreamEvent]:
        body = encode_request(call, upstream_model)
        body["stream"] = True
        data = orjson.dumps(body)
        async with self._http.open_stream(self._url, data, self._headers, self._failure) as reply:
            decoder = StreamDecoder()
            async for upstream_event in self._http.sse_json(reply):
                for item in decoder.decode(upstream_event):
                    yield item
                if decoder.done:
                    return
            if not decoder.done:
                yield ErrorEvent(f"The upstream provider '{self.name}' ended the stream early.")

    def interrupt(self) -> None:
        self._http.interrupt()

    async def close(self) -> None:
        await self._http.close()
