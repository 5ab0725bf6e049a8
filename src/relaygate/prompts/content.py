"""What a version holds: messages or instructions, a variables schema, an optional model
and parameters. Validated strictly (a 400 naming the field) when a version is created."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

VARIABLE_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
VariableType = Literal["string", "number", "integer", "boolean", "array", "object"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VariableSpec(_Body):
    name: str = Field(pattern=VARIABLE_NAME)
    type: VariableType = "string"
    required: bool = True
    default: Any = None
    description: str | None = Field(default=None, max_length=1000)


class MessageSpec(_Body):
    role: Literal["system", "developer", "user", "assistant"]
    content: str = Field(max_length=200_000)


class Params(_Body):
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, gt=0)
    response_format: dict[str, Any] | None = None  # chat's shape: {type, json_schema?}
    tools: list[dict[str, Any]] | None = Field(default=None, max_length=128)


class VersionContent(_Body):
    """One version's content; `messages`, `instructions` or both (instructions first)."""

    instructions: str | None = Field(default=None, max_length=200_000)
    messages: list[MessageSpec] | None = Field(default=None, max_length=200)
    variables: list[VariableSpec] = Field(default_factory=list, max_length=100)
    model: str | None = Field(default=None, min_length=1, max_length=200)
    params: Params | None = None

    @model_validator(mode="after")
    def _some_text(self) -> VersionContent:
        if not self.messages and self.instructions is None:
            raise ValueError("a version needs 'messages' or 'instructions'")
        names = [variable.name for variable in self.variables]
        if len(set(names)) != len(names):
            raise ValueError("each variable may be declared once")
        return self


class TemplateBody(VersionContent):
    """`POST /admin/prompts`: the template and its first version."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$")
    tenant: str | None = Field(default=None, min_length=1, max_length=200)  # None: every tenant


class LabelBody(_Body):
    """`PUT /admin/prompts/{id}/labels/{label}`: one version, or weights for an A/B split."""

    version: str | None = Field(default=None, pattern=r"^v[0-9]{1,6}$")
    weights: dict[str, int] | None = Field(default=None, min_length=1, max_length=20)

    @model_validator(mode="after")
    def _one(self) -> LabelBody:
        if (self.version is None) == (self.weights is None):
            raise ValueError("give 'version' or 'weights', not both")
        for name, weight in (self.weights or {}).items():
            if not name.startswith("v") or not name[1:].isdigit():
                raise ValueError(f"weights: {name!r} is not a version ('v2')")
            if weight < 0:
                raise ValueError("weights must be 0 or more")
        if self.weights is not None and sum(self.weights.values()) <= 0:
            raise ValueError("weights must add up to more than 0")
        return self

    def split(self) -> dict[str, int]:
        return dict(self.weights) if self.weights is not None else {str(self.version): 100}
