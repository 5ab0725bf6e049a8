"""The replay provider: wraps another provider, records its exchanges to cassettes, and
answers from them (`mode: record | replay | auto`, `timing: recorded | fast`).

Every call it can see is keyed the same way whichever front it came by (the canonical
call; a relayed Chat Completions body is decoded to it), so a cassette recorded through
one front answers another through translation. Relayed OpenAI-format bytes are recorded
and replayed byte for byte, streams chunk by chunk with their timing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from relaygate.config import ProviderSettings, ReplayMode, ReplayTiming
from relaygate.embeddings.wire import EmbeddingRequest, EmbeddingResult
from relaygate.embeddings.wire import decode_request as decode_embedding_request
from relaygate.embeddings.wire import encode_result as encode_embeddings
from relaygate.errors import unsupported
from relaygate.images.wire import ImageRequest, ImageResult
from relaygate.providers.base import Provider, RawReply, WireFormat
from relaygate.providers.replay import forms
from relaygate.providers.replay.cassettes import Cassettes, Secrets, canonical_key
from relaygate.providers.replay.codec import decode, encode
from relaygate.translate.openai_chat.request import decode_request as decode_chat_request
from relaygate.translate.openai_media import decode_embeddings
from relaygate.types import ModelCall, ModelResult, StreamEvent

Key = dict[str, Any]


def _chunk_record(at: float, data: bytes) -> dict[str, Any]:
    try:
        return {"t": round(at, 4), "data": data.decode("utf-8")}
    except UnicodeDecodeError:  # a chunk that splits a character
        return {"t": round(at, 4), "data_b64": encode(data)["_b"]}


class ReplayProvider:
    def __init__(self, name: str, settings: ProviderSettings, inner: Provider,
                 secrets: Secrets) -> None:
        self.name = name
        self._inner = inner
        self._mode = settings.mode
        self._fast = settings.timing is ReplayTiming.FAST
        self._ignore = frozenset(settings.ignore)
        self._cassettes = Cassettes(Path(settings.dir))
        self._secrets = secrets
        if getattr(inner, "relay_format", None) is WireFormat.OPENAI_CHAT:
            self.relay_format = WireFormat.OPENAI_CHAT  # bytes in, bytes out, byte for byte

    # --- keys, lookup, saving ----------------------------------------------------------

    def _key(self, kind: str, upstream_model: str, value: Any) -> Key:
        fields = {k: v for k, v in encode(value).items() if k not in self._ignore}
        return canonical_key(kind, upstream_model, fields, self._secrets)

    def _recorded(self, key: Key) -> dict[str, Any] | None:
        """The cassette's response; None: record it (raises in replay mode when absent)."""
        if self._mode is ReplayMode.RECORD:
            return None
        cassette = self._cassettes.load(key)
        if cassette is not None:
            response: dict[str, Any] = cassette["response"]
            return response
        if self._mode is ReplayMode.REPLAY:
            raise self._cassettes.missing(key)
        return None

    def _save(self, key: Key, response: dict[str, Any]) -> None:
        self._cassettes.save(key, response, self._secrets)

    async def _paced(self, timed: list[tuple[float, Any]]) -> AsyncIterator[Any]:
        started = time.perf_counter()
        for at, item in timed:
            if not self._fast:
                wait = at - (time.perf_counter() - started)
                if wait > 0:
                    await asyncio.sleep(wait)
            yield item

    # --- chat: canonical -----------------------------------------------------------------

    async def send(
        self, call: ModelCall, upstream_model: str, forwarded: Mapping[str, str] | None = None
    ) -> ModelResult:
        key = self._key("chat", upstream_model, call)
        recorded = self._recorded(key)
        if recorded is not None:
            return forms.result_of(recorded, upstream_model)
        result = await self._inner.send(call, upstream_model, forwarded)
        self._save(key, {"form": "result", "value": encode(result)})
        return result

    async def stream(
        self, call: ModelCall, upstream_model: str, forwarded: Mapping[str, str] | None = None
    ) -> AsyncIterator[StreamEvent]:
        key = self._key("chat", upstream_model, call)
        recorded = self._recorded(key)
        if recorded is not None:
            async for event in self._paced(forms.events_of(recorded, upstream_model)):
                yield event
            return
        started, events = time.perf_counter(), []
        async for event in self._inner.stream(call, upstream_model, forwarded):
            events.append({"t": round(time.perf_counter() - started, 4), "value": encode(event)})
            yield event
        self._save(key, {"form": "events", "events": events})  # only a stream that ended

    # --- chat: relayed Chat Completions bytes --------------------------------------------

    def _relay_key(self, body: bytes, upstream_model: str) -> Key:
        return self._key("chat", upstream_model, decode_chat_request(orjson.loads(body)))

    async def relay(
        self, body: bytes, upstream_model: str, request_id: str, forwarded: Mapping[str, str]
    ) -> RawReply:
        key = self._relay_key(body, upstream_model)
        recorded = self._recorded(key)
        if recorded is not None:
            return RawReply(200, forms.openai_body(recorded, upstream_model))
        reply: RawReply = await self._inner.relay(  # type: ignore[attr-defined]
            body, upstream_model, request_id, forwarded)
        self._save(key, {"form": "bytes", "body": reply.body.decode("utf-8")})
        return reply

    async def relay_stream(
        self, body: bytes, upstream_model: str, request_id: str, forwarded: Mapping[str, str]
    ) -> AsyncIterator[bytes]:
        key = self._relay_key(body, upstream_model)
        recorded = self._recorded(key)
        if recorded is not None:
            async for data in self._paced(forms.openai_chunks(recorded, upstream_model)):
                yield data
            return
        started, chunks = time.perf_counter(), []
        upstream = self._inner.relay_stream(  # type: ignore[attr-defined]
            body, upstream_model, request_id, forwarded)
        async for data in upstream:
            chunks.append(_chunk_record(time.perf_counter() - started, data))
            yield data
        self._save(key, {"form": "chunks", "chunks": chunks})

    # --- embeddings and images -------------------------------------------------------------

    async def embed(self, request: EmbeddingRequest, upstream_model: str) -> EmbeddingResult:
        key = self._key("embeddings", upstream_model, request)
        recorded = self._recorded(key)
        if recorded is not None:
            if recorded["form"] == "bytes":
                return decode_embeddings(orjson.loads(recorded["body"]))
            result: EmbeddingResult = decode(recorded["value"])
            return result
        embed = getattr(self._inner, "embed", None)
        if embed is None:
            raise unsupported(self._inner, "embeddings")
        result = await embed(request, upstream_model)
        self._save(key, {"form": "embeddings", "value": encode(result)})
        return result

    async def relay_embeddings(self, body: bytes, upstream_model: str, request_id: str) -> RawReply:
        request = decode_embedding_request(orjson.loads(body))
        key = self._key("embeddings", upstream_model, request)
        recorded = self._recorded(key)
        if recorded is not None:
            if recorded["form"] == "bytes":
                return RawReply(200, recorded["body"].encode())
            vectors = encode_embeddings(decode(recorded["value"]), request, upstream_model)
            return RawReply(200, orjson.dumps(vectors))
        relaying = getattr(self._inner, "relay_embeddings", None)
        if relaying is None:  # Gemini, the mock: their vectors, in OpenAI's shape
            result = await self.embed(request, upstream_model)
            return RawReply(200, orjson.dumps(encode_embeddings(result, request, upstream_model)))
        reply: RawReply = await relaying(body, upstream_model, request_id)
        self._save(key, {"form": "bytes", "body": reply.body.decode("utf-8")})
        return reply

    async def generate_images(self, request: ImageRequest, upstream_model: str) -> ImageResult:
        # the gateway holds the bytes whichever format the client asked for
        key = self._key("images", upstream_model, {**encode(request), "response_format": None})
        recorded = self._recorded(key)
        if recorded is not None:
            result: ImageResult = decode(recorded["value"])
            return result
        generate = getattr(self._inner, "generate_images", None)
        if generate is None:
            raise unsupported(self._inner, "image generation")
        result = await generate(request, upstream_model)
        self._save(key, {"form": "images", "value": encode(result)})
        return result

    def interrupt(self) -> None:
        self._inner.interrupt()

    async def close(self) -> None:
        return None  # the wrapped provider is closed as a provider of its own
