"""The bodies the admin API accepts, validated strictly: an unknown field, a negative
budget, an expiry in the past are 400s naming the field. In a PATCH, a field given as
null is cleared, a field left out is kept."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from relaygate.access.endpoints import FAMILY_NAMES
from relaygate.config import ToolPolicySettings
from relaygate.control_settings import BudgetSettings, LimitSettings

MAX_METADATA_KEYS = 16
TENANT_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,199}$"
MAX_GRACE_SECONDS = 30 * 24 * 3600


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Scopes(_Body):
    models: list[str] | None = Field(default=None, max_length=500)
    endpoints: list[str] | None = None
    tools: ToolPolicySettings | None = None
    budget: BudgetSettings | None = None
    limits: LimitSettings | None = None
    metadata: dict[str, str] | None = Field(default=None, max_length=MAX_METADATA_KEYS)

    @field_validator("models")
    @classmethod
    def _model_names(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(not name or len(name) > 200 for name in value):
            raise ValueError("each model must be a name or glob of 1 to 200 characters")
        return value

    @field_validator("endpoints")
    @classmethod
    def _families(cls, value: list[str] | None) -> list[str] | None:
        unknown = sorted(set(value or ()) - FAMILY_NAMES)
        if unknown:
            raise ValueError(f"unknown endpoints {unknown}; known: {sorted(FAMILY_NAMES)}")
        return value


class TenantBody(_Scopes):
    name: str = Field(pattern=TENANT_NAME)


class TenantChanges(_Scopes):
    pass


class _KeyFields(_Scopes):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    expires_at: datetime | None = None  # ISO 8601 or unix seconds; in the future

    @field_validator("expires_at")
    @classmethod
    def _in_future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if value.timestamp() <= time.time():
            raise ValueError("must be in the future")
        return value


class KeyBody(_KeyFields):
    tenant: str = Field(pattern=TENANT_NAME)


class KeyChanges(_KeyFields):
    pass


class RotateBody(_Body):
    grace_seconds: float = Field(default=3600.0, ge=0, le=MAX_GRACE_SECONDS)


def stored(body: _Scopes, fields: set[str] | None = None) -> dict[str, Any]:
    """The body's fields as the store keeps them (JSON; an expiry as unix seconds); only
    `fields` when given (a PATCH: the fields the client sent)."""
    names = fields if fields is not None else set(type(body).model_fields)
    values: dict[str, Any] = {}
    for name in names:
        value = getattr(body, name)
        if isinstance(value, BaseModel):
            value = value.model_dump(mode="json", exclude_defaults=True)
        elif isinstance(value, datetime):
            value = value.timestamp()
        values[name] = value
    return values
