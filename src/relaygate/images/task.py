"""The image-generation task: served by a provider's `generate_images` (OpenAI-compatible
upstreams, Gemini's image models, the mock, a replay); its usage for the ledger."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from relaygate.errors import unsupported
from relaygate.images.wire import ImageRequest, ImageResult
from relaygate.pipeline.call import Call, TaskReply
from relaygate.tokens.estimate import estimate_text
from relaygate.types import Usage, UsageSource

MAX_OUTPUT_TOKENS_PER_IMAGE = 6_240  # gpt-image-1's largest, high quality (what budgets reserve)


@dataclass(slots=True)
class ImageTask:
    request: ImageRequest
    output_tokens: int = field(init=False)  # the worst case: every image at its largest
    _counted: int | None = None

    def __post_init__(self) -> None:
        self.output_tokens = self.request.n * MAX_OUTPUT_TOKENS_PER_IMAGE

    def input_tokens(self, model: str) -> int:
        if self._counted is None:
            self._counted = estimate_text(self.request.prompt, model)
        return self._counted

    def texts(self) -> list[str]:
        return [self.request.prompt]

    def with_texts(self, texts: list[str]) -> ImageTask:
        (prompt,) = texts
        return ImageTask(dataclasses.replace(self.request, prompt=prompt))

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
