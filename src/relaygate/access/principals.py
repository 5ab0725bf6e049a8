"""A database key and its tenant → the `Principal` a request runs as (its grant included)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from relaygate.access.grant import Grant, Owned, narrowed
from relaygate.config import ToolPolicySettings
from relaygate.control_settings import BudgetSettings, LimitSettings
from relaygate.pipeline.auth import Principal
from relaygate.store.access import KeyRecord, TenantRecord

M = TypeVar("M", bound=BaseModel)


def principal_of(key: KeyRecord, tenant: TenantRecord) -> Principal:
    return Principal(
        tenant=key.tenant, key_name=key.name or key.prefix, key_id=key.id,
        grant=grant_of(key, tenant),
    )


def grant_of(key: KeyRecord, tenant: TenantRecord) -> Grant:
    """The tenant's defaults narrowed by the key's own: both lists, both budgets, both limits."""
    tools = tuple(
        ToolPolicySettings.model_validate(policy)
        for policy in (tenant.tools, key.tools) if policy is not None
    )
    return Grant(
        models=narrowed(tenant.models, key.models),
        endpoints=narrowed(tenant.endpoints, key.endpoints),
        tools=tools,
        budgets=_owned(BudgetSettings, tenant.budget, key.budget, tenant.name, key.id),
        limits=_owned(LimitSettings, tenant.limits, key.limits, tenant.name, key.id),
    )


def _owned(
    kind: type[M], of_tenant: dict[str, Any] | None, of_key: dict[str, Any] | None,
    tenant: str, key_id: str,
) -> tuple[Owned[M], ...]:
    owned: list[Owned[M]] = []
    if of_tenant is not None:
        owned.append(Owned(f"tenant:{tenant}", kind.model_validate(of_tenant)))
    if of_key is not None:
        owned.append(Owned(f"key:{key_id}", kind.model_validate(of_key)))
    return tuple(owned)
