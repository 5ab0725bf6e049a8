"""The Responses request as it arrives on the wire (validation only).

Follows `CreateResponseBody` of the OpenResponses spec; item and part models allow
extra keys so newer clients are not refused for a field we do not use.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- content parts ------------------------------------------------------------------


class InputText(_Wire):
    type: Literal["input_text"]
    text: str


class InputImage(_Wire):
    type: Literal["input_image"]
    image_url: str | None = None
    file_id: str | None = None
    detail: Literal["low", "high", "auto"] | None = None


class InputFile(_Wire):
    type: Literal["input_file"]
    filename: str | None = None
    file_data: str | None = None
    file_url: str | None = None
    file_id: str | None = None


class InputVideo(_Wire):
    type: Literal["input_video"]
    video_url: str


class OutputText(_Wire):
    type: Literal["output_text"]
    text: str
    annotations: list[dict[str, Any]] | None = None


class Refusal(_Wire):
    type: Literal["refusal"]
    refusal: str


class SummaryText(_Wire):
    type: Literal["summary_text"]
    text: str


class ReasoningText(_Wire):
    type: Literal["reasoning_text"]
    text: str


Part = Annotated[
    InputText | InputImage | InputFile | InputVideo | OutputText | Refusal,
    Field(discriminator="type"),
]
OutputPart = Annotated[InputText | InputImage | InputFile | InputVideo, Field(discriminator="type")]

# --- input items ----------------------------------------------------------------------


class MessageItem(_Wire):
    type: Literal["message"]
    role: Literal["user", "assistant", "system", "developer"]
    content: str | list[Part]
    id: str | None = None
    status: str | None = None
    phase: Literal["commentary", "final_answer"] | None = None


class FunctionCallItem(_Wire):
    type: Literal["function_call"]
    call_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")
    arguments: str
    id: str | None = None
    status: Literal["in_progress", "completed", "incomplete"] | None = None


class FunctionCallOutputItem(_Wire):
    type: Literal["function_call_output"]
    call_id: str = Field(min_length=1, max_length=64)
    output: str | list[OutputPart]
    id: str | None = None
    status: Literal["in_progress", "completed", "incomplete"] | None = None


class ReasoningItem(_Wire):
    type: Literal["reasoning"]
    summary: list[SummaryText]
    content: list[ReasoningText] | None = None
    encrypted_content: str | None = None
    id: str | None = None


class CompactionItem(_Wire):
    type: Literal["compaction"]
    encrypted_content: str
    id: str | None = None


class ItemReference(_Wire):
    type: Literal["item_reference"]
    id: str


class GatewayToolCallItem(_Wire):
    """A gateway tool the gateway ran (hosted `relaygate:<name>` tools), sent back by a
    client that keeps its own context (`store: false`)."""

    type: Literal["relaygate:tool_call"]
    call_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")
    arguments: str
    output: str | None = None
    error: str | None = None
    id: str | None = None
    status: Literal["in_progress", "completed", "failed", "incomplete"] | None = None


Item = Annotated[
    MessageItem
    | FunctionCallItem
    | FunctionCallOutputItem
    | ReasoningItem
    | CompactionItem
    | ItemReference
    | GatewayToolCallItem,
    Field(discriminator="type"),
]

# --- tools, tool choice, text, reasoning ------------------------------------------------


class FunctionTool(_Wire):
    type: Literal["function"]
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class NamedFunction(_Wire):
    type: Literal["function"]
    name: str


class AllowedTools(_Wire):
    type: Literal["allowed_tools"]
    tools: list[NamedFunction] = Field(min_length=1, max_length=128)
    mode: Literal["none", "auto", "required"] = "auto"


ToolChoiceObject = Annotated[NamedFunction | AllowedTools, Field(discriminator="type")]


class TextFormatText(_Wire):
    type: Literal["text"]


class TextFormatJsonObject(_Wire):
    type: Literal["json_object"]


class TextFormatJsonSchema(_Wire):
    type: Literal["json_schema"]
    name: str = "response"
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    description: str | None = None
    strict: bool | None = None


TextFormat = Annotated[
    TextFormatText | TextFormatJsonObject | TextFormatJsonSchema, Field(discriminator="type")
]


class TextOptions(_Wire):
    format: TextFormat | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


class ReasoningOptions(_Wire):
    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    summary: Literal["concise", "detailed", "auto"] | None = None


class StreamOptions(_Wire):
    include_obfuscation: bool | None = None


class CreateResponse(_Wire):
    """`CreateResponseBody`; `model` is checked by the front (400 when missing)."""

    model: str | None = None
    input: str | list[Item] | None = None
    previous_response_id: str | None = None
    include: list[Literal["reasoning.encrypted_content", "message.output_text.logprobs"]] | None = (
        None
    )
    tools: list[dict[str, Any]] | None = None
    tool_choice: Literal["none", "auto", "required"] | ToolChoiceObject | None = None
    metadata: dict[str, Annotated[str, Field(max_length=512)]] | None = Field(
        default=None, max_length=16
    )
    text: TextOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    parallel_tool_calls: bool | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    background: bool = False
    max_output_tokens: int | None = Field(default=None, ge=16)
    max_tool_calls: int | None = Field(default=None, ge=1)
    reasoning: ReasoningOptions | None = None
    safety_identifier: str | None = Field(default=None, max_length=64)
    prompt_cache_key: str | None = Field(default=None, max_length=64)
    truncation: Literal["auto", "disabled"] = "disabled"
    instructions: str | None = None
    store: bool = True
    service_tier: Literal["auto", "default", "flex", "priority"] | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    user: str | None = None


class CompactRequest(_Wire):
    """`CompactResponseMethodPublicBody`: the body of `POST /v1/responses/compact`."""

    model: str = Field(min_length=1)
    input: str | list[Item] | None = None
    previous_response_id: str | None = None
    instructions: str | None = None
    prompt_cache_key: str | None = Field(default=None, max_length=64)


ITEM_TAGS = frozenset(
    {
        "message",
        "function_call",
        "function_call_output",
        "reasoning",
        "compaction",
        "item_reference",
        "input_text",
        "input_image",
        "input_file",
        "input_video",
        "output_text",
        "refusal",
        "summary_text",
        "reasoning_text",
        "function",
        "allowed_tools",
        "text",
        "json_object",
        "json_schema",
    }
)
