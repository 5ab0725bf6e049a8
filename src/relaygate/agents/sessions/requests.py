"""The bodies the sessions API accepts, validated strictly (unknown fields are errors).

The model rule: a session's `model` is fixed at creation; a turn may name another model
only when the session was created with it in `allowed_models`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from relaygate.errors import InvalidRequest
from relaygate.translate.openai_chat import wire
from relaygate.translate.openai_chat.request import user_parts
from relaygate.types import ContentPart, TextPart

MAX_METADATA_KEYS = 16


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateSession(_Body):
    model: str = Field(min_length=1, max_length=200)
    system: str | None = None
    tools: list[str | wire.Tool] = Field(default_factory=list)  # gateway tool names or functions
    ttl_seconds: int | None = Field(default=None, ge=1)
    metadata: dict[str, str] = Field(default_factory=dict, max_length=MAX_METADATA_KEYS)
    context: dict[str, Any] = Field(default_factory=dict)  # initial context variables
    allowed_models: list[str] = Field(default_factory=list)
    max_context_tokens: int | None = Field(default=None, ge=1)  # the history budget
    max_output_tokens: int | None = Field(default=None, ge=1)  # the reply budget


class UserMessage(_Body):
    role: Literal["user"] = "user"
    content: str | list[wire.UserPart]


class PostMessage(_Body):
    message: str | UserMessage | None = None
    content: str | list[wire.UserPart] | None = None
    model: str | None = Field(default=None, min_length=1)
    stream: StrictBool = False
    metadata: dict[str, str] = Field(default_factory=dict, max_length=MAX_METADATA_KEYS)
    # the session's tools from this turn on (as at creation); absent: keep them
    tools: list[str | wire.Tool] | None = None

    def check(self) -> None:
        """Exactly one of `message` and `content`, and not empty."""
        if self.message is None and self.content is None:
            raise InvalidRequest("Missing required parameter: 'message'.", param="message")
        if self.message is not None and self.content is not None:
            raise InvalidRequest("Give either 'message' or 'content', not both.", param="content")
        if not any(not isinstance(part, TextPart) or part.text for part in self.parts()):
            raise InvalidRequest("The message is empty.", param="message", code="empty_message")

    def parts(self) -> list[ContentPart]:
        """The user message's content as canonical parts (audio is refused)."""
        content = self.content
        if isinstance(self.message, UserMessage):
            content = self.message.content
        elif self.message is not None:
            content = self.message
        return user_parts(content or [], "content")


class PutContext(_Body):
    value: Any = Field(...)
