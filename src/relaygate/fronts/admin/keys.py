"""Virtual keys, managed at runtime. The secret is shown once, in the answer to create or
rotate; the store keeps its SHA-256 digest and the first 8 characters for recognition.

    POST   /admin/keys               {tenant, name?, models?, endpoints?, tools?, metadata?,
                                      expires_at?, budget?, limits?} → the key, with `key`
    GET    /admin/keys               list (?tenant, ?limit, ?after)
    GET    /admin/keys/{id}
    PATCH  /admin/keys/{id}          the fields given (null clears one)
    POST   /admin/keys/{id}/rotate   {grace_seconds?} → a new secret; the old one works
                                      until the grace period ends
    DELETE /admin/keys/{id}          revoke: refused from now on, on every instance
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse

from relaygate.access.grant import widens
from relaygate.access.secrets import new_key_id, new_secret, visible_prefix
from relaygate.errors import InvalidRequest, NotFound
from relaygate.fronts.admin.audit import audited
from relaygate.fronts.admin.auth import require_admin
from relaygate.fronts.admin.bodies import KeyBody, KeyChanges, RotateBody, stored
from relaygate.fronts.admin.spend import spend_of
from relaygate.fronts.admin.views import key_json
from relaygate.fronts.common import int_query, list_page, parse_json, read_body, read_json_object
from relaygate.pipeline.auth import hash_key
from relaygate.store.access import AccessStore, KeyRecord
from relaygate.translate.validation import validate_wire


async def create_key(request: Request) -> JSONResponse:
    gateway = await require_admin(request)
    _, raw = await read_json_object(request, gateway)
    body = validate_wire(KeyBody, raw)
    store = await gateway.access_store()
    await _check_within_tenant(store, body.tenant, body.models, body.endpoints)
    values = stored(body)
    values["metadata"] = values["metadata"] or {}
    secret = new_secret()
    key = await store.create_key(
        KeyRecord(id=new_key_id(), prefix=visible_prefix(secret), digest=hash_key(secret),
                  **values)
    )
    await gateway.access_changed()  # an instance that saw this secret as unknown forgets that
    await audited(gateway, request, "key.created", f"key:{key.id}", None, key_json(key))
    return JSONResponse(key_json(key, secret), status_code=201)


async def list_keys(request: Request) -> JSONResponse:
    gateway = await require_admin(request)
    limit = int_query(request, "limit", 20, 1, 100)
    keys = await (await gateway.access_store()).keys(
        request.query_params.get("tenant"), limit + 1, request.query_params.get("after")
    )
    page = [key_json(key, spend=await spend_of(gateway, f"key:{key.id}", key.budget))
            for key in keys[:limit]]
    return JSONResponse(list_page(page, page[0]["id"] if page else None,
                                  page[-1]["id"] if page else None, len(keys) > limit))


async def get_key(request: Request) -> JSONResponse:
    gateway = await require_admin(request)
    key = await _key(await gateway.access_store(), request)
    return JSONResponse(key_json(key, spend=await spend_of(gateway, f"key:{key.id}", key.budget)))


async def update_key(request: Request) -> JSONResponse:
    gateway = await require_admin(request)
    _, raw = await read_json_object(request, gateway)
    body = validate_wire(KeyChanges, raw)
    store = await gateway.access_store()
    key = await _key(store, request)
    await _check_within_tenant(store, key.tenant, body.models, body.endpoints)
    changes = stored(body, body.model_fields_set)
    if changes.get("metadata", {}) is None:
        changes["metadata"] = {}
    before = key_json(key)
    key = await store.update_key(key.id, changes)
    await gateway.access_changed()
    await audited(gateway, request, "key.updated", f"key:{key.id}", before, key_json(key))
    return JSONResponse(key_json(key))


async def rotate_key(request: Request) -> JSONResponse:
    gateway = await require_admin(request)
    raw = await read_body(request, gateway.settings.server.max_body_bytes)
    body = validate_wire(RotateBody, parse_json(raw) if raw else {})
    store = await gateway.access_store()
    key = await _key(store, request)
    if key.revoked_at is not None:
        raise InvalidRequest("A revoked key cannot be rotated.", code="key_revoked")
    secret = new_secret()
    before = key_json(key)
    key = await store.update_key(key.id, {
        "digest": hash_key(secret),
        "prefix": visible_prefix(secret),
        "previous_digest": key.digest if body.grace_seconds > 0 else None,
        "previous_valid_until": time.time() + body.grace_seconds if body.grace_seconds else None,
    })
    await gateway.access_changed()
    await audited(gateway, request, "key.rotated", f"key:{key.id}", before, key_json(key))
    return JSONResponse(key_json(key, secret))


async def revoke_key(request: Request) -> JSONResponse:
    gateway = await require_admin(request)
    store = await gateway.access_store()
    key = await _key(store, request)
    if key.revoked_at is None:
        before = key_json(key)
        key = await store.update_key(key.id, {"revoked_at": time.time()})
        await audited(gateway, request, "key.revoked", f"key:{key.id}", before, key_json(key))
    await gateway.access_changed()
    return JSONResponse(key_json(key))


async def _key(store: AccessStore, request: Request) -> KeyRecord:
    key_id = request.path_params["key_id"]
    key = await store.key(key_id)
    if key is None:
        raise NotFound(f"No key with id {key_id!r}.", code="key_not_found")
    return key


async def _check_within_tenant(
    store: AccessStore, tenant_name: str, models: list[str] | None, endpoints: list[str] | None
) -> None:
    """The tenant exists, and the key's lists do not widen the tenant's (400 naming them)."""
    tenant = await store.tenant(tenant_name)
    if tenant is None:
        raise InvalidRequest(
            f"Invalid value for 'tenant': no tenant named {tenant_name!r}; create it first "
            "(POST /admin/tenants).", param="tenant", code="tenant_not_found",
        )
    for field, mine, theirs in (("models", models, tenant.models),
                                ("endpoints", endpoints, tenant.endpoints)):
        extra = widens(theirs, mine)
        if extra:
            raise InvalidRequest(
                f"Invalid value for '{field}': {extra} are not allowed for tenant "
                f"{tenant_name!r} (it allows {theirs}); a key may narrow its tenant's "
                "list, never widen it.", param=field, code="wider_than_tenant",
            )

