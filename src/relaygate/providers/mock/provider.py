"""The mock provider: plans a reply by rule, then answers it whole or word by word."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Mapping

import orjson

from relaygate.config import ProviderSettings
from relaygate.embeddings.mock import DEFAULT_DIMENSIONS, embed_text, embed_tokens
from relaygate.embeddings.wire import EmbeddingRequest, EmbeddingResult
from relaygate.images.png import prompt_png
from relaygate.images.wire import GeneratedImage, ImageRequest, ImageResult
from relaygate.providers.mock.rules import Plan, plan_reply
from relaygate.tokens.pieces import count_pieces, count_prompt_pieces, truncate_to_pieces
from relaygate.types import (
    Finish,
    FinishReason,
    Message,
    ModelCall,
    ModelResult,
    Role,
    StreamEvent,
    TextDelta,
    TextPart,
    ToolCall,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
    UsageEvent,
    UsageSource,
)

_WORDS = re.compile(r"\S+\s*|\s+")


def _limited(text: str, call: ModelCall) -> tuple[str, FinishReason]:
    """Apply `stop` then `max_tokens` to the planned text."""
    cut = min((text.find(stop) for stop in call.stop if stop and stop in text), default=-1)
    if cut >= 0:
        return text[:cut], FinishReason.STOP
    if call.max_tokens is not None and count_pieces(text) > call.max_tokens:
        return truncate_to_pieces(text, call.max_tokens), FinishReason.LENGTH
    return text, FinishReason.STOP


def _result_message(plan: Plan, text: str) -> Message:
    calls = [
        ToolCall(
            id=f"call_{uuid.uuid4().hex[:24]}",
            name=item.name,
            arguments=orjson.dumps(item.arguments).decode(),
        )
        for item in plan.calls
    ]
    return Message(Role.ASSISTANT, [TextPart(text)] if text else [], tool_calls=calls)


async def _paced(words: list[str], delay: float) -> AsyncIterator[str]:
    """Word i is due `delay` × (i + 1) after the start. A stream woken late (a busy loop)
    sends every word already due as one delta, as a real upstream's chunks that arrived
    together go out in one read: the pace holds instead of falling further behind."""
    loop = asyncio.get_running_loop()
    start, sent = loop.time(), 0
    while sent < len(words):
        wait = start + delay * (sent + 1) - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        due = min(len(words), max(sent + 1, int((loop.time() - start) / delay)))
        yield "".join(words[sent:due]) if due > sent + 1 else words[sent]
        sent = due


class MockProvider:
    """Deterministic, offline answers; `echo` repeats, `mock` follows rules (see rules.py)."""

    def __init__(self, name: str, settings: ProviderSettings) -> None:
        self.name = name
        self._delay = settings.stream_delay_ms / 1000.0

    def _answer(self, call: ModelCall, upstream_model: str) -> tuple[Message, FinishReason, Usage]:
        plan = plan_reply(call, upstream_model)
        text, finish = _limited(plan.text, call)
        message = _result_message(plan, text)
        if message.tool_calls:
            finish = FinishReason.TOOL_CALLS
        output = count_pieces(text) + sum(
            count_pieces(tool.arguments) + 3 for tool in message.tool_calls
        )
        usage = Usage(
            input_tokens=count_prompt_pieces(call.messages, call.tools),
            output_tokens=output,
            source=UsageSource.UPSTREAM,
        )
        return message, finish, usage

    async def send(
        self, call: ModelCall, upstream_model: str, forwarded: Mapping[str, str] | None = None
    ) -> ModelResult:
        message, finish, usage = self._answer(call, upstream_model)
        return ModelResult(
            id=f"chatcmpl-{uuid.uuid4().hex[:24]}",
            model=upstream_model,
            message=message,
            finish_reason=finish,
            usage=usage,
            created=int(time.time()),
        )

    async def stream(
        self, call: ModelCall, upstream_model: str, forwarded: Mapping[str, str] | None = None
    ) -> AsyncIterator[StreamEvent]:
        message, finish, usage = self._answer(call, upstream_model)
        words = _WORDS.findall(message.text)
        if not self._delay:
            for word in words:
                yield TextDelta(word)
        else:
            async for text in _paced(words, self._delay):
                yield TextDelta(text)
        for index, tool_call in enumerate(message.tool_calls):
            yield ToolCallStart(index, tool_call.id, tool_call.name)
            arguments = tool_call.arguments
            middle = len(arguments) // 2
            for fragment in (arguments[:middle], arguments[middle:]):
                if self._delay:
                    await asyncio.sleep(self._delay)
                if fragment:
                    yield ToolCallDelta(index, fragment)
            yield ToolCallEnd(index)
        yield UsageEvent(usage)
        yield Finish(finish)

    async def embed(self, request: EmbeddingRequest, upstream_model: str) -> EmbeddingResult:
        """Deterministic vectors (embeddings/mock.py): similar texts lie close."""
        dimensions = request.dimensions or DEFAULT_DIMENSIONS
        if request.tokens:
            vectors = [embed_tokens(tokens, dimensions) for tokens in request.tokens]
            used = sum(len(tokens) for tokens in request.tokens)
        else:
            vectors = [embed_text(text, dimensions) for text in request.texts]
            used = sum(count_pieces(text) for text in request.texts)
        return EmbeddingResult(vectors, used)

    async def generate_images(self, request: ImageRequest, upstream_model: str) -> ImageResult:
        """Small real PNGs, the same for the same prompt."""
        images = [
            GeneratedImage(prompt_png(request.prompt, index), "image/png", request.prompt)
            for index in range(request.n)
        ]
        return ImageResult(images, count_pieces(request.prompt), 0)

    def interrupt(self) -> None:
        """Nothing waits on an upstream here: its streams see `draining` between words."""

    async def close(self) -> None:
        return None
