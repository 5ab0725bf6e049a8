"""The Gemini provider: generateContent and streamGenerateContent (`?alt=sse`) over HTTP.

Also relays a Gemini front's body untouched (the fast path) via `relay_model`, since
Gemini names the model in the URL rather than the body.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from urllib.parse import quote

import orjson

from relaygate.config import ProviderSettings
from relaygate.embeddings.wire import EmbeddingRequest, EmbeddingResult
from relaygate.errors import GatewayError, UpstreamError
from relaygate.images.wire import ImageRequest, ImageResult
from relaygate.providers.base import RawReply
from relaygate.providers.failures import decoded_result, upstream_failure
from relaygate.providers.http import HttpExecutor, HttpReply
from relaygate.tokens.stream_counter import ensure_usage, with_usage
from relaygate.translate.gemini import media
from relaygate.translate.gemini.encode import encode_request
from relaygate.translate.gemini.response import decode_response
from relaygate.translate.gemini.stream import ChunkDecoder
from relaygate.types import ErrorEvent, ModelCall, ModelResult, StreamEvent

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"


@dataclass(slots=True)
class GeminiFailure:
    """What a Gemini error body says: `{"error": {code, message, status, details}}`."""

    message: str | None = None
    status: str | None = None
    retry_after: str | None = None  # from a google.rpc.RetryInfo detail, in seconds


def parse_error(body: bytes) -> GeminiFailure:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace").strip()
        return GeminiFailure(text[:500] or None)
    if isinstance(parsed, list) and parsed:  # errors on the JSON-array stream come wrapped
        parsed = parsed[0]
    if not (isinstance(parsed, dict) and isinstance(parsed.get("error"), dict)):
        return GeminiFailure()
    error = parsed["error"]
    failure = GeminiFailure(str(error.get("message") or ""), error.get("status") or None)
    for detail in error.get("details") or []:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            failure.retry_after = delay.removesuffix("s")
    return failure


class GeminiProvider:
    """Gemini's REST API with an API key (`x-goog-api-key`)."""

    def __init__(self, name: str, settings: ProviderSettings) -> None:
        self.name = name
        self._base_url = (settings.base_url or DEFAULT_BASE_URL).rstrip("/")
        headers = {"Content-Type": "application/json", **settings.headers}
        if settings.api_key:
            headers["x-goog-api-key"] = settings.api_key
        self._headers = headers
        self._http = HttpExecutor.for_provider(name, settings)

    def url(self, model: str, stream: bool) -> str:
        model = model.removeprefix("models/")
        action = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return f"{self._base_url}/models/{quote(model, safe='-._~')}:{action}"

    def _failure(self, reply: HttpReply) -> GatewayError:
        failure = parse_error(reply.body)
        headers: Mapping[str, str] = reply.headers
        if failure.retry_after is not None and "retry-after" not in headers:
            headers = {**headers, "retry-after": failure.retry_after}
        return upstream_failure(self.name, reply.status, failure.message, headers, failure.status)

    def _headers_for(self, request_id: str) -> dict[str, str]:
        return {**self._headers, "X-Request-ID": request_id} if request_id else self._headers

    # --- canonical path -----------------------------------------------------------

    async def send(
        self, call: ModelCall, upstream_model: str, forwarded: Mapping[str, str] | None = None
    ) -> ModelResult:
        body = orjson.dumps(encode_request(call))
        url = self.url(upstream_model, False)
        reply = await self._http.post_json(url, body, self._headers, self._failure)
        result = decoded_result(
            self.name, reply.body, lambda body: decode_response(body, upstream_model)
        )
        result.id = result.id or f"gemini-{uuid.uuid4().hex[:24]}"
        result.created = int(time.time())
        return ensure_usage(result, call, upstream_model)

    def stream(
        self, call: ModelCall, upstream_model: str, forwarded: Mapping[str, str] | None = None
    ) -> AsyncIterator[StreamEvent]:
        return with_usage(self._events(call, upstream_model), call, upstream_model)

    async def _events(self, call: ModelCall, upstream_model: str) -> AsyncIterator[StreamEvent]:
        body = orjson.dumps(encode_request(call))
        async with self._http.open_stream(
            self.url(upstream_model, True), body, self._headers, self._failure
        ) as response:
            decoder = ChunkDecoder()
            async for chunk in self._http.sse_json(response):
                for item in decoder.decode(chunk):
                    yield item
                    if isinstance(item, ErrorEvent):
                        return
        if not decoder.finished:  # a clean end of body, but the last chunk never came
            yield ErrorEvent(
                f"The upstream provider '{self.name}' ended the stream before its finishReason."
            )
            return
        for item in decoder.close():
            yield item

    # --- the fast path: a Gemini front's body, relayed -------------------------------

    async def relay(
        self, body: bytes, upstream_model: str, request_id: str, forwarded: Mapping[str, str]
    ) -> RawReply:
        """POST `body` as is to generateContent; the upstream's reply as is (errors raise)."""
        url, headers = self.url(upstream_model, False), self._headers_for(request_id)
        reply = await self._http.post_json(url, body, headers, self._failure)
        return RawReply(200, reply.body, reply.headers["content-type"])

    def relay_stream(
        self, body: bytes, upstream_model: str, request_id: str, forwarded: Mapping[str, str]
    ) -> AsyncIterator[bytes]:
        """POST `body` as is to streamGenerateContent?alt=sse; yield the SSE bytes."""
        url, headers = self.url(upstream_model, True), self._headers_for(request_id)
        return self._http.relay_sse(url, body, headers, self._failure)

    # --- embeddings and images (embeddings/, images/) --------------------------------

    def _action_url(self, model: str, action: str) -> str:
        name = quote(model.removeprefix("models/"), safe="-._~")
        return f"{self._base_url}/models/{name}:{action}"

    async def embed(self, request: EmbeddingRequest, upstream_model: str) -> EmbeddingResult:
        """`embedContent` / `batchEmbedContents`; Gemini reports no usage (the task counts)."""
        action, body = media.embed_body(request, upstream_model)
        url = self._action_url(upstream_model, action)
        reply = await self._http.post_json(url, orjson.dumps(body), self._headers, self._failure)
        vectors = decoded_result(self.name, reply.body, media.decode_embeddings)
        return EmbeddingResult(vectors, 0, estimated=True)  # the task counts the input

    async def generate_images(self, request: ImageRequest, upstream_model: str) -> ImageResult:
        """Imagen: one `predict` for all; Gemini's image models: one `generateContent` per
        image (concurrently), their usage summed."""
        body = orjson.dumps(media.image_body(request, upstream_model))
        imagen = media.is_imagen(upstream_model)
        url = self._action_url(upstream_model, "predict" if imagen else "generateContent")
        calls = 1 if imagen else request.n
        replies = await asyncio.gather(*(
            self._http.post_json(url, body, self._headers, self._failure) for _ in range(calls)
        ))
        result = ImageResult([])
        for reply in replies:
            part = decoded_result(self.name, reply.body, media.decode_images)
            result.images += part.images
            result.input_tokens += part.input_tokens
            result.output_tokens += part.output_tokens
        if not result.images:
            raise UpstreamError(f"The upstream provider '{self.name}' returned no image.")
        return result

    def interrupt(self) -> None:
        self._http.interrupt()

    async def close(self) -> None:
        await self._http.close()
