"""The moderations task: a moderation request relayed to an OpenAI-compatible upstream's
/moderations through the model-call pipeline (keys, model scopes, limits, budgets,
routing, the ledger), its reply as is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from relaygate.errors import InvalidRequest, unsupported
from relaygate.pipeline.call import Call, TaskReply
from relaygate.providers.base import RawReply
from relaygate.tokens.estimate import estimate_text
from relaygate.types import Usage, UsageSource


class ModerationRelay(Protocol):
    async def relay_moderations(self, body: bytes, upstream_model: str,
                                request_id: str) -> RawReply:
        """POST `body` to the upstream's /moderations; its reply as is (errors raise)."""


def moderation_texts(value: Any) -> list[str | None]:
    """`input`: a string, a list of strings, or text / image_url parts (None: an image)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return list(value)
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        texts: list[str | None] = []
        for index, part in enumerate(value):
            if part.get("type") == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif part.get("type") == "image_url":
                texts.append(None)
            else:
                raise InvalidRequest(f"input[{index}]: expected a text or image_url part.",
                                     param=f"input[{index}]")
        return texts
    raise InvalidRequest("'input' must be a string, a list of strings, or a list of "
                         "text / image_url parts.", param="input")


@dataclass(slots=True)
class ModerationTask:
    body: dict[str, Any]  # the client's request (its `input` checked)
    inputs: list[str | None]
    output_tokens: int = 0  # a moderation produces no tokens
    _counted: int | None = None

    @classmethod
    def of(cls, body: dict[str, Any]) -> ModerationTask:
        if "input" not in body:
            raise InvalidRequest("Missing required parameter: 'input'.", param="input")
        return cls(body, moderation_texts(body["input"]))

    def input_tokens(self, model: str) -> int:
        if self._counted is None:
            self._counted = sum(estimate_text(text, model) for text in self.texts())
        return self._counted

    def texts(self) -> list[str]:
        return [text for text in self.inputs if text is not None]

    def with_texts(self, texts: list[str]) -> ModerationTask:
        replaced = iter(texts)
        inputs = [next(replaced) if text is not None else None for text in self.inputs]
        value = self.body["input"]
        if isinstance(value, str):
            new_input: Any = inputs[0]
        elif all(isinstance(item, str) for item in value):
            new_input = inputs
        else:
            new_input = [dict(part, text=text) if text is not None else part
                         for part, text in zip(value, inputs, strict=True)]
        return ModerationTask({**self.body, "input": new_input}, inputs)

    def check(self, provider: object) -> None:
        if not hasattr(provider, "relay_moderations"):
            raise unsupported(provider, "moderations")

    async def send(
        self, provider: object, upstream_model: str, call: Call, relay: bool
    ) -> TaskReply:
        relaying = getattr(provider, "relay_moderations", None)
        if relaying is None:
            raise unsupported(provider, "moderations")
        if relay and call.raw is not None and self.body.get("model") == upstream_model:
            body = call.raw
        else:
            body = orjson.dumps({**self.body, "model": upstream_model})
        reply: RawReply = await relaying(body, upstream_model, call.request_id)
        usage = Usage(input_tokens=self.input_tokens(upstream_model),
                      source=UsageSource.ESTIMATED)  # moderations report no usage
        return TaskReply(usage, reply=reply)
