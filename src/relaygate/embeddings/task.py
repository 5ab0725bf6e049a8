"""The embeddings task: how an embeddings call is served by whichever provider the route
names — its bytes relayed to an OpenAI-compatible upstream, or `embed` (Gemini, the mock,
a replay), with the usage the ledger, limits and budgets read."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Protocol

import orjson

from relaygate.embeddings.wire import EmbeddingRequest, EmbeddingResult
from relaygate.errors import unsupported
from relaygate.pipeline.call import Call, TaskReply
from relaygate.providers.base import RawReply
from relaygate.tokens.estimate import estimate_text
from relaygate.types import Usage, UsageSource

_MODEL = re.compile(rb'"model"\s*:\s*"(?:[^"\\]|\\.)*"')
_PROMPT_TOKENS = re.compile(rb'"prompt_tokens"\s*:\s*([0-9]+)')


class Embedder(Protocol):
    async def embed(self, request: EmbeddingRequest, upstream_model: str) -> EmbeddingResult: ...


class EmbeddingRelay(Protocol):
    async def relay_embeddings(self, body: bytes, upstream_model: str, request_id: str) -> RawReply:
        """POST `body` to the upstream's /embeddings as is; its reply as is (errors raise)."""


@dataclass(slots=True)
class EmbeddingTask:
    request: EmbeddingRequest
    output_tokens: int = 0
    _counted: int | None = None

    def input_tokens(self, model: str) -> int:
        if self._counted is None:
            request = self.request
            if request.tokens:
                self._counted = sum(len(tokens) for tokens in request.tokens)
            else:
                self._counted = sum(estimate_text(text, model) for text in request.texts)
        return self._counted

    def texts(self) -> list[str]:
        return self.request.texts  # token arrays: nothing a guard can read

    def with_texts(self, texts: list[str]) -> EmbeddingTask:
        return EmbeddingTask(dataclasses.replace(self.request, texts=texts))

    def check(self, provider: object) -> None:
        if not hasattr(provider, "embed") and not hasattr(provider, "relay_embeddings"):
            raise unsupported(provider, "embeddings")

    async def send(
        self, provider: object, upstream_model: str, call: Call, relay: bool
    ) -> TaskReply:
        relaying = getattr(provider, "relay_embeddings", None)
        if relay and relaying is not None:
            body = _upstream_body(call, upstream_model)
            reply: RawReply = await relaying(body, upstream_model, call.request_id)
            return self._relayed(reply, call.model, upstream_model)
        embed = getattr(provider, "embed", None)
        if embed is None:
            raise unsupported(provider, "embeddings")
        result: EmbeddingResult = await embed(self.request, upstream_model)
        if result.estimated:  # the upstream reported no usage: ours, as for a relayed reply
            result.input_tokens = self.input_tokens(upstream_model)
        source = UsageSource.ESTIMATED if result.estimated else UsageSource.UPSTREAM
        return TaskReply(Usage(input_tokens=result.input_tokens, source=source), product=result)

    def _relayed(self, reply: RawReply, asked: str, upstream_model: str) -> TaskReply:
        """The upstream's bytes with the client's model name; usage from its tail."""
        body = reply.body
        at = body.rfind(b'"model"')  # the top-level one: vectors hold no strings like it
        if at >= 0 and asked != upstream_model:
            found = _MODEL.match(body, at)
            if found is not None:
                body = body[:at] + b'"model":' + orjson.dumps(asked) + body[found.end():]
        tokens = None
        at = body.rfind(b'"usage"')
        if at >= 0:
            found = _PROMPT_TOKENS.search(body, at)
            tokens = int(found.group(1)) if found is not None else None
        if tokens is None:
            usage = Usage(input_tokens=self.input_tokens(upstream_model),
                          source=UsageSource.ESTIMATED)
        else:
            usage = Usage(input_tokens=tokens)
        return TaskReply(usage, reply=RawReply(reply.status, body, reply.content_type))


def _upstream_body(call: Call, upstream_model: str) -> bytes:
    body, raw = call.body, call.raw
    assert body is not None and raw is not None
    if body.get("model") == upstream_model:
        return raw
    return orjson.dumps({**body, "model": upstream_model})
