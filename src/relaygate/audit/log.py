"""`AuditLog`: what every admin action calls, once it has changed something.

    await gateway.audit.record(actor, "key.rotated", f"key:{key.id}", before, after)

`actor` is who did it (`admin_actor(request)`: the admin key's id), `action` a dotted name
(`<noun>.<verb>`: key.created, tenant.updated, prompt.label_moved, cache.cleared…), `target`
what it was done to (`key:<id>`, `tenant:<name>`, `cache:<name>`), `before`/`after` the
object as the admin API shows it (or None). Secrets never reach a row: any field named like
one (`key`, `secret`, `digest`, `api_key`, `password`, `token`…) is blanked, at any depth.
The row is written before the admin answer goes out, in the same database as the rest.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from relaygate.lazy_import import import_module
from relaygate.observability.logging import get_logger

if TYPE_CHECKING:
    from relaygate.store.audit import AuditStore
    from relaygate.store.db import Database

_log = get_logger("relaygate.audit")

SECRET_FIELDS = frozenset({
    "key", "secret", "digest", "previous_digest", "api_key", "password", "token",
    "authorization", "access_token", "refresh_token", "client_secret",
})
BLANK = "***"


def without_secrets(value: Any) -> Any:
    """`value` with every secret-named field blanked (dicts and lists, at any depth)."""
    if isinstance(value, dict):
        return {
            name: BLANK if str(name).lower() in SECRET_FIELDS and item is not None
            else without_secrets(item)
            for name, item in value.items()
        }
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    return value


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """The top-level fields whose values differ (`updated_at` aside)."""
    before, after = before or {}, after or {}
    return sorted(name for name in set(before) | set(after)
                  if name != "updated_at" and before.get(name) != after.get(name))


class AuditLog:
    def __init__(self, database: Callable[[], Awaitable[Database]]) -> None:
        self._database = database
        self._store: AuditStore | None = None

    async def store(self) -> AuditStore:
        if self._store is None:
            module = await import_module("relaygate.store.audit")
            self._store = module.AuditStore(await self._database())
        assert self._store is not None
        return self._store

    async def record(
        self, actor: str, action: str, target: str,
        before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> int:
        """Write one row (secrets blanked); returns its id."""
        module = await import_module("relaygate.store.audit")
        row = module.AuditRow(
            at=time.time(), actor=actor, action=action, target=target,
            before=without_secrets(before), after=without_secrets(after), request_id=request_id,
        )
        row_id: int = await (await self.store()).add(row)
        _log.info("audit", actor=actor, action=action, target=target,
                  changed=changed_fields(before, after))
        return row_id
