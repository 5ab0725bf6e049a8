"""The Anthropic Messages request as it arrives on the wire (validation only).

Blocks and tools the canonical call cannot carry (server tools, search results,
container uploads…) are accepted here so the byte relay can pass them on; the
canonical decoder refuses them with a precise 422.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError

from relaygate.errors import InvalidRequest
from relaygate.translate.validation import invalid_request_from

T = TypeVar("T", bound=BaseModel)
TOOL_NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,128}$"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow")


class CacheControl(_Wire):
    type: Literal["ephemeral"]
    ttl: Literal["5m", "1h"] | None = None


class TextBlock(_Wire):
    type: Literal["text"]
    text: str
    cache_control: CacheControl | None = None
    citations: list[dict[str, Any]] | None = None


class Base64Source(_Wire):
    type: Literal["base64"]
    media_type: str
    data: str


class UrlSource(_Wire):
    type: Literal["url"]
    url: str


class FileSource(_Wire):
    type: Literal["file"]
    file_id: str


class PlainTextSource(_Wire):
    type: Literal["text"]
    media_type: Literal["text/plain"] = "text/plain"
    data: str


class ContentSource(_Wire):
    type: Literal["content"]
    content: str | list[dict[str, Any]]


ImageSource = Annotated[Base64Source | UrlSource | FileSource, Field(discriminator="type")]
DocumentSource = Annotated[
    Base64Source | UrlSource | FileSource | PlainTextSource | ContentSource,
    Field(discriminator="type"),
]


class ImageBlock(_Wire):
    type: Literal["image"]
    source: ImageSource
    cache_control: CacheControl | None = None


class DocumentBlock(_Wire):
    type: Literal["document"]
    source: DocumentSource
    title: str | None = None
    context: str | None = None
    cache_control: CacheControl | None = None


class ToolUseBlock(_Wire):
    type: Literal["tool_use"]
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    input: dict[str, Any]
    cache_control: CacheControl | None = None


ToolResultPart = Annotated[TextBlock | ImageBlock | DocumentBlock, Field(discriminator="type")]


class ToolResultBlock(_Wire):
    type: Literal["tool_result"]
    tool_use_id: str = Field(min_length=1)
    content: ToolResultContent | None = None
    is_error: bool | None = None
    cache_control: CacheControl | None = None


class ThinkingBlock(_Wire):
    type: Literal["thinking"]
    thinking: str
    signature: str


class RedactedThinkingBlock(_Wire):
    type: Literal["redacted_thinking"]
    data: str


class ServerBlock(_Wire):
    """A block only Anthropic itself understands (server tools, search results…)."""

    type: Literal[
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
        "mcp_tool_use",
        "mcp_tool_result",
        "container_upload",
        "search_result",
        "tool_reference",
    ]


ContentBlock = Annotated[
    TextBlock
    | ImageBlock
    | DocumentBlock
    | ToolUseBlock
    | ToolResultBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | ServerBlock,
    Field(discriminator="type"),
]


def _text_or_blocks(value: Any) -> str:
    return "plain-text" if isinstance(value, str) else "block-list"


MessageContent = Annotated[
    Annotated[str, Tag("plain-text")] | Annotated[list[ContentBlock], Tag("block-list")],
    Discriminator(_text_or_blocks),
]
SystemContent = Annotated[
    Annotated[str, Tag("plain-text")] | Annotated[list[TextBlock], Tag("block-list")],
    Discriminator(_text_or_blocks),
]
ToolResultContent = Annotated[
    Annotated[str, Tag("plain-text")] | Annotated[list[ToolResultPart], Tag("block-list")],
    Discriminator(_text_or_blocks),
]


class InputMessage(_Wire):
    role: Literal["user", "assistant"]
    content: MessageContent


class CustomTool(_Wire):
    type: Literal["custom"] | None = None
    name: str = Field(pattern=TOOL_NAME_PATTERN)
    description: str | None = None
    input_schema: dict[str, Any]
    cache_control: CacheControl | None = None
    strict: bool | None = None


class ServerTool(_Wire):
    """A versioned Anthropic-defined tool (`web_search_20250305`, `bash_20250124`…)."""

    type: str
    name: str
    cache_control: CacheControl | None = None


def _tool_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "custom-tool" if kind in (None, "custom") else "server-tool"


AnyTool = Annotated[
    Annotated[CustomTool, Tag("custom-tool")] | Annotated[ServerTool, Tag("server-tool")],
    Discriminator(_tool_kind),
]


class ToolChoiceAuto(_Wire):
    type: Literal["auto"]
    disable_parallel_tool_use: bool | None = None


class ToolChoiceAny(_Wire):
    type: Literal["any"]
    disable_parallel_tool_use: bool | None = None


class ToolChoiceTool(_Wire):
    type: Literal["tool"]
    name: str
    disable_parallel_tool_use: bool | None = None


class ToolChoiceNone(_Wire):
    type: Literal["none"]


ToolChoice = Annotated[
    ToolChoiceAuto | ToolChoiceAny | ToolChoiceTool | ToolChoiceNone,
    Field(discriminator="type"),
]


class ThinkingEnabled(_Wire):
    type: Literal["enabled"]
    budget_tokens: int = Field(ge=1024)


class ThinkingDisabled(_Wire):
    type: Literal["disabled"]


class ThinkingAdaptive(_Wire):
    type: Literal["adaptive"]


Thinking = Annotated[
    ThinkingEnabled | ThinkingDisabled | ThinkingAdaptive, Field(discriminator="type")
]


class Metadata(_Wire):
    user_id: str | None = None


class JsonOutputFormat(_Wire):
    type: Literal["json_schema"]
    schema_: dict[str, Any] = Field(alias="schema")


class OutputConfig(_Wire):
    effort: Literal["low", "medium", "high", "xhigh", "max"] | None = None
    format: JsonOutputFormat | None = None


class CountTokensRequest(_Wire):
    """`POST /v1/messages/count_tokens`: the prompt part of a Messages request."""

    model: str = Field(min_length=1)
    messages: list[InputMessage] = Field(min_length=1)
    system: SystemContent | None = None
    tools: list[AnyTool] | None = None
    tool_choice: ToolChoice | None = None
    thinking: Thinking | None = None


class MessagesRequest(CountTokensRequest):
    """`POST /v1/messages`. `max_tokens` is required by Anthropic; the gateway defaults it."""

    max_tokens: int | None = Field(default=None, ge=1)
    stream: bool | None = False
    stop_sequences: list[str] | None = None
    temperature: float | None = Field(default=None, ge=0, le=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0)
    metadata: Metadata | None = None
    output_config: OutputConfig | None = None
    service_tier: Literal["auto", "standard_only"] | None = None


def param_of(loc: tuple[int | str, ...], body: Any) -> str:
    """An error location → `messages[0].content[1].source`, walking the body to tell a
    discriminator tag (the `type` of the object at that point) from a field name."""
    param = ""
    node: Any = body
    tag_seen = False
    for segment in loc:
        if isinstance(segment, int):
            param += f"[{segment}]"
            node = node[segment] if isinstance(node, list) and segment < len(node) else None
            tag_seen = False
            continue
        if not tag_seen and isinstance(node, dict) and node.get("type") == segment:
            tag_seen = True
            continue  # a discriminator tag, not a field
        if not segment.replace("_", "").isalnum() or segment in ("str", "list", "dict"):
            continue  # pydantic's names for union members
        param += f".{segment}" if param else segment
        node = node.get(segment) if isinstance(node, dict) else None
        tag_seen = False
    return param


def validate_request(model: type[T], body: Any) -> T:
    """Validate a decoded body; InvalidRequest names the first bad field precisely."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        error = invalid_request_from(exc)
        detail = exc.errors(include_url=False)[0]
        param = param_of(tuple(detail["loc"]), body)
        if detail["type"] in ("union_tag_invalid", "union_tag_not_found"):
            param = f"{param}.type" if param else "type"
        if error.param is not None:
            error.message = error.message.replace(f"'{error.param}'", f"'{param}'", 1)
        error.param = param
        raise error from None
