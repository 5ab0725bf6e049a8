"""Tenants and keys as the admin API shows them (never a key's secret or digest)."""

from __future__ import annotations

import time
from typing import Any

from relaygate.store.access import KeyRecord, TenantRecord


def _seconds(value: float | None) -> int | None:
    return int(value) if value is not None else None


def key_status(key: KeyRecord, now: float | None = None) -> str:
    now = time.time() if now is None else now
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


def key_json(key: KeyRecord, secret: str | None = None, spend: Any = None) -> dict[str, Any]:
    """A key; with `secret` (on create and rotate, the one time it is shown) as `key`, and
    what it spent of its budget this period."""
    shown: dict[str, Any] = {
        "id": key.id,
        "object": "api_key",
        "tenant": key.tenant,
        "name": key.name,
        "prefix": key.prefix,
        "status": key_status(key),
        "models": key.models,
        "endpoints": key.endpoints,
        "tools": key.tools,
        "budget": key.budget,
        "spend": spend,
        "limits": key.limits,
        "metadata": key.metadata,
        "expires_at": _seconds(key.expires_at),
        "revoked_at": _seconds(key.revoked_at),
        "previous_key_valid_until": _seconds(key.previous_valid_until),
        "created_at": _seconds(key.created_at),
        "updated_at": _seconds(key.updated_at),
    }
    if secret is not None:
        shown["key"] = secret
    return shown


def tenant_json(tenant: TenantRecord, spend: Any = None) -> dict[str, Any]:
    return {
        "id": tenant.name,
        "object": "tenant",
        "name": tenant.name,
        "models": tenant.models,
        "endpoints": tenant.endpoints,
        "tools": tenant.tools,
        "budget": tenant.budget,
        "spend": spend,
        "limits": tenant.limits,
        "metadata": tenant.metadata,
        "created_at": _seconds(tenant.created_at),
        "updated_at": _seconds(tenant.updated_at),
    }
