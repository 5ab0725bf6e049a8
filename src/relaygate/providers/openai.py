"""The OpenAI Chat Completions provider: OpenAI itself and every server that speaks it
(vLLM, llama.cpp, Ollama, Together, Groq…), Azure OpenAI deployments included."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping

import orjson

from relaygate.config import ProviderSettings
from relaygate.embeddings.wire import EmbeddingRequest, EmbeddingResult
from relaygate.errors import GatewayError
from relaygate.images.wire import ImageRequest, ImageResult
from relaygate.providers.base import RawReply, WireFormat
from relaygate.providers.failures import decoded_result, upstream_failure
from relaygate.providers.http import HttpExecutor, HttpReply
from relaygate.tokens.stream_counter import ensure_usage, with_usage
from relaygate.translate.openai_chat.request import encode_request
from relaygate.translate.openai_chat.response import decode_response
from relaygate.translate.openai_chat.stream import ChunkDecoder
from relaygate.translate.openai_media import (
    decode_embeddings,
    decode_images,
    encode_embeddings,
    encode_images,
)
from relaygate.types import ErrorEvent, ModelCall, ModelResult, StreamEvent

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def error_message(body: bytes) -> tuple[str | None, str | None]:
    """(message, code) from an OpenAI-style error body, when it is one."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace").strip()
        return (text[:500] or None), None
    if isinstance(parsed, dict):
        error = parsed.get("error")
        if isinstance(error, dict):
            code = error.get("code")
            return str(error.get("message") or ""), str(code) if code else None
        if isinstance(error, str):
            return error, None
        if "message" in parsed:
            return str(parsed["message"]), None
    return None, None


class OpenAIProvider:
    """Chat Completions over HTTP; also relays bytes when the front speaks the same format."""

    relay_format = WireFormat.OPENAI_CHAT

    def __init__(self, name: str, settings: ProviderSettings) -> None:
        self.name = name
        base_url = (settings.base_url or DEFAULT_BASE_URL).rstrip("/")
        self._azure = settings.azure or settings.api_version is not None
        self._base_url = base_url
        self._api_version = settings.api_version
        headers = {"Content-Type": "application/json", **settings.headers}
        if settings.api_key:
            if self._azure:
                headers["api-key"] = settings.api_key
            else:
                headers["Authorization"] = f"Bearer {settings.api_key}"
        self._headers = headers
        self._http = HttpExecutor.for_provider(name, settings)
        self._default_url = self._url(None)

    def _url(self, deployment: str | None, path: str = "chat/completions") -> str:
        if not self._azure:
            return f"{self._base_url}/{path}"
        version = self._api_version or "2024-10-21"
        return (
            f"{self._base_url}/openai/deployments/{deployment}/{path}"
            f"?api-version={version}"
        )

    def _headers_for(self, request_id: str) -> Mapping[str, str]:
        return {**self._headers, "X-Request-ID": request_id} if request_id else self._headers

    def _failure(self, reply: HttpReply) -> GatewayError:
        message, code = error_message(reply.body)
        return upstream_failure(self.name, reply.status, message, reply.headers, code)

    # --- canonical path -----------------------------------------------------------

    async def send(
        self, call: ModelCall, upstream_model: str, forwarded: Mapping[str, str] | None = None
    ) -> ModelResult:
        body = encode_request(call, upstream_model)
        body.pop("stream", None)
        body.pop("stream_options", None)
        url = self._url(upstream_model) if self._azure else self._default_url
        reply = await self._http.post_json(url, orjson.dumps(body), self._headers, self._failure)
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
        body["stream_options"] = {"include_usage": True}
        url = self._url(upstream_model) if self._azure else self._default_url
        data = orjson.dumps(body)
        async with self._http.open_stream(url, data, self._headers, self._failure) as response:
            decoder = ChunkDecoder()
            async for chunk in self._http.sse_json(response):
                for item in decoder.decode(chunk):
                    yield item
            if not decoder.finished:  # a clean end of body, but no finish_reason, no [DONE]
                yield ErrorEvent(
                    f"The upstream provider '{self.name}' ended the stream before finishing."
                )

    # --- the fast path: bytes in, bytes out -----------------------------------------

    def _relay_url(self, upstream_model: str) -> str:
        return self._url(upstream_model) if self._azure else self._default_url

    async def relay(
        self, body: bytes, upstream_model: str, request_id: str, forwarded: Mapping[str, str]
    ) -> RawReply:
        headers = self._headers_for(request_id)
        reply = await self._http.post_json(
            self._relay_url(upstream_model), body, headers, self._failure
        )
        return RawReply(200, reply.body, reply.headers["content-type"])

    def relay_stream(
        self, body: bytes, upstream_model: str, request_id: str, forwarded: Mapping[str, str]
    ) -> AsyncIterator[bytes]:
        url = self._relay_url(upstream_model)
        return self._http.relay_sse(url, body, self._headers_for(request_id), self._failure)

    # --- embeddings and images (embeddings/, images/) --------------------------------

    async def relay_embeddings(self, body: bytes, upstream_model: str, request_id: str) -> RawReply:
        url = self._url(upstream_model, "embeddings")
        reply = await self._http.post_json(url, body, self._headers_for(request_id), self._failure)
        return RawReply(200, reply.body, reply.headers["content-type"])

    async def relay_moderations(self, body: bytes, upstream_model: str,
                                request_id: str) -> RawReply:
        url = self._url(upstream_model, "moderations")
        reply = await self._http.post_json(url, body, self._headers_for(request_id), self._failure)
        return RawReply(200, reply.body, reply.headers["content-type"])

    async def embed(self, request: EmbeddingRequest, upstream_model: str) -> EmbeddingResult:
        body = orjson.dumps(encode_embeddings(request, upstream_model))
        url = self._url(upstream_model, "embeddings")
        reply = await self._http.post_json(url, body, self._headers, self._failure)
        return decoded_result(self.name, reply.body, decode_embeddings)

    async def generate_images(self, request: ImageRequest, upstream_model: str) -> ImageResult:
        body = orjson.dumps(encode_images(request, upstream_model))
        url = self._url(upstream_model, "images/generations")
        reply = await self._http.post_json(url, body, self._headers, self._failure)
        return decoded_result(self.name, reply.body, decode_images)

    def interrupt(self) -> None:
        self._http.interrupt()

    async def close(self) -> None:
        await self._http.close()
