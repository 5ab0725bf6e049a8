"""Models for the OpenAPI document only: each front's error body (fronts/errors.py writes
them) and the request bodies that the fronts check by hand rather than with a wire model.
Nothing validates with these; the tests check them against what the gateway answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from relaygate.translate.gemini import wire as gemini_wire


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIError(BaseModel):
    """An error from the OpenAI-shaped fronts (chat, Responses, models, the agent APIs)."""

    error: OpenAIErrorDetail


class AnthropicErrorDetail(BaseModel):
    type: str = Field(examples=["invalid_request_error", "not_found_error", "overloaded_error"])
    message: str


class AnthropicError(BaseModel):
    """An error from `/v1/messages…`, in Anthropic's shape."""

    type: Literal["error"]
    error: AnthropicErrorDetail


class GeminiErrorDetail(BaseModel):
    code: int
    message: str
    status: str = Field(examples=["INVALID_ARGUMENT", "NOT_FOUND", "UNAVAILABLE"])


class GeminiError(BaseModel):
    """An error from the Gemini front, in Google's shape."""

    error: GeminiErrorDetail


class GeminiCountTokens(BaseModel):
    """`:countTokens`: a GenerateContentRequest's fields, or one as `generateContentRequest`."""

    model_config = ConfigDict(extra="allow")

    contents: list[gemini_wire.Content] | None = None
    generate_content_request: gemini_wire.GenerateContentRequest | None = Field(
        default=None, alias="generateContentRequest"
    )


class SendAgentMessage(BaseModel):
    """`POST /v1/agents/messages`: one message from an agent to another."""

    from_agent: str = Field(min_length=1, max_length=200)
    to_agent: str = Field(min_length=1, max_length=200)
    content: Any = Field(description="any JSON value but null")
    conversation_id: str | None = Field(default=None, min_length=1, max_length=200)
    metadata: dict[str, Any] | None = None
    a2a: bool = Field(default=False, description="also hand it to the named agent `to_agent` "
                      "as an A2A task; its answer comes back to from_agent's mailbox")


class AcknowledgeMessages(BaseModel):
    """`POST /v1/agents/{agent_id}/messages/ack`: `ids`, or every message `up_to` a sequence."""

    ids: list[str] = Field(default_factory=list)
    up_to: int | None = Field(default=None, ge=0, le=2**63 - 1)


class ToolArguments(BaseModel):
    """`POST /api/tools/{name}/invoke`: the tool's arguments, as its schema in `GET /api/tools`."""

    model_config = ConfigDict(extra="allow")
