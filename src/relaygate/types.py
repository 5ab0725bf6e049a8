"""The canonical model call, result and event stream.

Every front decodes its wire format into a `ModelCall`; every provider encodes a
`ModelCall` into its wire format and decodes the answer into a `ModelResult` or a
stream of `StreamEvent`s. This module is a leaf: it imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    SYSTEM = "system"
    DEVELOPER = "developer"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


@dataclass(slots=True)
class TextPart:
    text: str
    cache_control: dict[str, Any] | None = None  # a prompt-caching marker (Anthropic)


@dataclass(slots=True)
class ImagePart:
    """An image by URL; inline images are `data:` URLs."""

    url: str
    detail: str | None = None
    cache_control: dict[str, Any] | None = None


@dataclass(slots=True)
class FilePart:
    """A file given inline (`data`, base64) or by id/URL."""

    data: str | None = None
    file_id: str | None = None
    url: str | None = None
    filename: str | None = None
    media_type: str | None = None
    cache_control: dict[str, Any] | None = None


ContentPart = TextPart | ImagePart | FilePart


@dataclass(slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, exactly as the model produced it


@dataclass(slots=True)
class Message:
    role: Role
    content: list[ContentPart] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None  # for role=tool: the call this answers
    name: str | None = None
    reasoning: str | None = None  # the model's visible thinking, when a provider returns it
    reasoning_signature: str | None = None  # opaque proof some providers need back
    cache_control: dict[str, Any] | None = None  # marker on a tool result as a whole

    @property
    def text(self) -> str:
        """All text parts joined."""
        return "".join(part.text for part in self.content if isinstance(part, TextPart))


@dataclass(slots=True)
class ToolSpec:
    name: str
    description: str | None = None
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None
    cache_control: dict[str, Any] | None = None


class ToolChoiceMode(StrEnum):
    AUTO = "auto"
    NONE = "none"
    REQUIRED = "required"
    NAMED = "named"


@dataclass(slots=True)
class ToolChoice:
    mode: ToolChoiceMode = ToolChoiceMode.AUTO
    name: str | None = None  # set when mode is NAMED
    allowed: list[str] | None = None  # restricts which tools may be called


class ResponseFormatType(StrEnum):
    TEXT = "text"
    JSON_OBJECT = "json_object"
    JSON_SCHEMA = "json_schema"


@dataclass(slots=True)
class ResponseFormat:
    type: ResponseFormatType = ResponseFormatType.TEXT
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None


@dataclass(slots=True)
class ModelCall:
    """One model call, whatever the front it came in by. `None` means "not given"."""

    model: str
    messages: list[Message]
    tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: ToolChoice | None = None
    response_format: ResponseFormat | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    user: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    parallel_tool_calls: bool | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    reasoning_effort: str | None = None
    reasoning_budget: int | None = None
    stream: bool = False
    include_usage: bool = False
    top_logprobs: int | None = None  # None: no logprobs wanted; n: with n alternatives each
    extra: dict[str, Any] = field(default_factory=dict)  # vendor fields passed through untouched


@dataclass(slots=True)
class Prompt:
    """What a call's worst case is counted from, read from its wire body without decoding
    the whole call: the same messages and tools, and `max_tokens`, as its `ModelCall`."""

    messages: list[Message]
    tools: list[ToolSpec]
    max_tokens: int | None


class FinishReason(StrEnum):
    STOP = "stop"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"
    CONTENT_FILTER = "content_filter"
    ERROR = "error"


class UsageSource(StrEnum):
    UPSTREAM = "upstream"
    ESTIMATED = "estimated"


@dataclass(slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cache_creation_tokens: int = 0
    reasoning_tokens: int = 0
    source: UsageSource = UsageSource.UPSTREAM

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def add(self, more: Usage) -> None:
        """Add `more` into this usage; an estimated part makes the whole estimated."""
        self.input_tokens += more.input_tokens
        self.output_tokens += more.output_tokens
        self.cached_tokens += more.cached_tokens
        self.cache_creation_tokens += more.cache_creation_tokens
        self.reasoning_tokens += more.reasoning_tokens
        if more.source is UsageSource.ESTIMATED:
            self.source = UsageSource.ESTIMATED


@dataclass(slots=True)
class ModelResult:
    id: str
    model: str
    message: Message
    finish_reason: FinishReason
    usage: Usage
    created: int
    stop_sequence: str | None = None  # which stop sequence ended the text, when known


# --- the canonical event stream -------------------------------------------------


@dataclass(slots=True)
class TokenLogprob:
    """One generated token's log probability, with the likeliest alternatives."""

    token: str
    logprob: float
    top: list[TokenLogprob] = field(default_factory=list)


@dataclass(slots=True)
class TextDelta:
    text: str
    logprobs: list[TokenLogprob] = field(default_factory=list)  # when the call asked


@dataclass(slots=True)
class ReasoningDelta:
    text: str
    signature: str | None = None


@dataclass(slots=True)
class ToolCallStart:
    index: int  # position of this call among the message's tool calls
    id: str
    name: str


@dataclass(slots=True)
class ToolCallDelta:
    index: int
    arguments: str  # a fragment of the JSON arguments text


@dataclass(slots=True)
class ToolCallEnd:
    index: int


@dataclass(slots=True)
class UsageEvent:
    usage: Usage


@dataclass(slots=True)
class Finish:
    reason: FinishReason
    stop_sequence: str | None = None


@dataclass(slots=True)
class ErrorEvent:
    message: str
    type: str = "upstream_error"
    status: int = 502


StreamEvent = (
    TextDelta
    | ReasoningDelta
    | ToolCallStart
    | ToolCallDelta
    | ToolCallEnd
    | UsageEvent
    | Finish
    | ErrorEvent
)
