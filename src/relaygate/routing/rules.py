"""Task-based routing: rules that send a call to another group or deployment by what it is.

Each rule's conditions are all required; the first rule that matches wins. Conditions that
need the content (tools, images, the last user message, its size) decode the body, which
does not stop the call from being relayed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from relaygate.routing.settings import RuleSettings
from relaygate.tokens.estimate import estimate_prompt
from relaygate.types import ImagePart, ModelCall, Role, TextPart

if TYPE_CHECKING:
    from relaygate.pipeline.call import Call


@dataclass(frozen=True, slots=True)
class Rule:
    to: str
    models: frozenset[str] | None
    tags: frozenset[str] | None
    has_tools: bool | None
    has_images: bool | None
    input_tokens_over: int | None
    last_user: re.Pattern[str] | None
    tenant: str | None

    @classmethod
    def of(cls, settings: RuleSettings) -> Rule:
        when = settings.when
        return cls(
            to=settings.to,
            models=frozenset(settings.models) if settings.models is not None else None,
            tags=frozenset(when.tags) if when.tags is not None else None,
            has_tools=when.has_tools,
            has_images=when.has_images,
            input_tokens_over=when.input_tokens_over,
            last_user=re.compile(when.last_user_matches) if when.last_user_matches else None,
            tenant=when.tenant,
        )

    def matches(self, call: Call) -> bool:
        """Cheap conditions first; the body is decoded only when one needs it."""
        if self.models is not None and call.model not in self.models:
            return False
        if self.tenant is not None and call.principal.tenant != self.tenant:
            return False
        if self.tags is not None and not self.tags.intersection(tags_of(call)):
            return False
        if self.has_tools is None and self.has_images is None and self.last_user is None \
                and self.input_tokens_over is None:
            return True
        if call.task is not None:  # embeddings, images: no chat content to look at
            return False
        model_call = call.canonical()
        if self.has_tools is not None and bool(model_call.tools) != self.has_tools:
            return False
        if self.has_images is not None and _has_images(model_call) != self.has_images:
            return False
        if self.last_user is not None and not self.last_user.search(_last_user_text(model_call)):
            return False
        if self.input_tokens_over is not None:
            tokens = estimate_prompt(model_call.messages, model_call.tools, call.model)
            if tokens <= self.input_tokens_over:
                return False
        return True


class Rules:
    def __init__(self, rules: Sequence[RuleSettings]) -> None:
        self._rules = [Rule.of(rule) for rule in rules]

    def __bool__(self) -> bool:
        return bool(self._rules)

    def target(self, call: Call) -> str | None:
        """The group or deployment id of the first rule that matches, or None."""
        for rule in self._rules:
            if rule.matches(call):
                return rule.to
        return None


def tags_of(call: Call) -> list[str]:
    """The call's tags: `x-relaygate-tags`, and `metadata.tags` (comma-separated)."""
    tags = call.tags
    listed = call.metadata.get("tags")
    if listed:
        tags = [*tags, *(tag.strip() for tag in listed.split(",") if tag.strip())]
    return tags


def _has_images(call: ModelCall) -> bool:
    return any(isinstance(part, ImagePart) for message in call.messages for part in message.content)


def _last_user_text(call: ModelCall) -> str:
    for message in reversed(call.messages):
        if message.role is Role.USER:
            return " ".join(part.text for part in message.content if isinstance(part, TextPart))
    return ""
