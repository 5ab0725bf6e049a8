"""What a named agent is (`agents: {name: {...}}` in the YAML, or `POST /admin/agents`)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
AGENT_PREFIX = "agent:"  # a tool entry naming a local named agent (delegation)
A2A_PREFIX = "a2a:"  # a tool entry naming a remote A2A agent (`a2a.remotes.<alias>`)


def check_delegates(tools: list[str] | None) -> list[str] | None:
    """`agent:<name>` and `a2a:<alias>` entries must name something a name can be."""
    for entry in tools or []:
        if entry.startswith((AGENT_PREFIX, A2A_PREFIX)):
            kind, _, target = entry.partition(":")
            if not NAME_PATTERN.match(target):
                raise ValueError(f"{entry!r}: {kind}:<name>, 1-64 letters, digits, '_', '.', "
                                 "'-', starting with a letter or digit")
    return tools


class AgentBudget(BaseModel):
    """An agent's per-run budget: a run (with the runs it delegates to) that has spent
    `max_usd` starts no further model step; it ends with stop reason `max_cost`."""

    model_config = ConfigDict(extra="forbid")

    max_usd: float = Field(gt=0)


class AgentSpec(BaseModel):
    """A named agent: its model (or routing group), instructions, tools and limits."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=200)
    instructions: str | None = None  # the session's system prompt (may be a template)
    description: str | None = None  # shown on its A2A card
    tools: list[str] = Field(default_factory=list)  # gateway tool names
    max_steps: int | None = Field(default=None, ge=1, le=64)  # its loop's model steps a run
    max_seconds: float | None = Field(default=None, gt=0)  # its loop's time a run
    budget: AgentBudget | None = None  # its cost a run
    max_output_tokens: int | None = Field(default=None, ge=1)
    ttl_seconds: int | None = Field(default=None, ge=1)
    tenant: str | None = None  # only this tenant may run it; None: every tenant

    @field_validator("tools")
    @classmethod
    def _valid_delegates(cls, value: list[str]) -> list[str]:
        check_delegates(value)
        return value


class NamedAgent(AgentSpec):
    """An agent with its name (the admin API's body)."""

    name: str

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError("1-64 letters, digits, '_', '.', '-', starting with a letter or digit")
        return value

    def spec(self) -> AgentSpec:
        return AgentSpec.model_validate(self.model_dump(exclude={"name"}))


class AgentChanges(BaseModel):
    """`PATCH /admin/agents/{name}`: the fields given replace the agent's."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, min_length=1, max_length=200)
    instructions: str | None = None
    description: str | None = None
    tools: list[str] | None = None
    max_steps: int | None = Field(default=None, ge=1, le=64)
    max_seconds: float | None = Field(default=None, gt=0)
    budget: AgentBudget | None = None
    max_output_tokens: int | None = Field(default=None, ge=1)
    ttl_seconds: int | None = Field(default=None, ge=1)
    tenant: str | None = None

    @field_validator("tools")
    @classmethod
    def _valid_delegates(cls, value: list[str] | None) -> list[str] | None:
        return check_delegates(value)
