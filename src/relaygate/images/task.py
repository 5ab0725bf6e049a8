"""The image-generation task: served by a provider's `generate_images` (OpenAI-compatible
upstreams, Gemini's image models, the mock, a replay); its usage for the ledger."""

from __future__ import annotations

from dataclasses import dataclass

from relaygate.embeddings.task import unsupported
from relaygate.images.wire import ImageRequest, ImageResult
from relaygate.pipeline.call import Call, TaskReply
from relaygate.tokens.tokenizer import count_text
from relaygate.types import Usage, UsageSource


@dataclass(slots=True)
class ImageTask:
    request: ImageRequest
    output_tokens: int = 0  # priced per image (a model's request price), not per token

    def input_tokens(self, model: str) -> int:
        return count_text(self.request.prompt, model)

    def check(self, provider: object) -> None:
        if not hasattr(provider, "generate_images"):
            raise unsupported(provider, "image generation")

    async def send(
        self, provider: object, upstream_model: str, call: Call, relay: bool
    ) -> TaskReply:
        generate = getattr(provider, "generate_images", None)
        if generate is None:
            raise unsupported(provider, "image generation")
        result: ImageResult = await generate(self.request, upstream_model)
        if not result.input_tokens and not result.output_tokens:
            result.input_tokens, result.estimated = self.input_tokens(upstream_model), True
        source = UsageSource.ESTIMATED if result.estimated else UsageSource.UPSTREAM
        usage = Usage(input_tokens=result.input_tokens, output_tokens=result.output_tokens,
                      source=source)
        return TaskReply(usage, product=result)
