"""The database keys, cached in process so that the hot path never queries per request.

A key is looked up once, then served from memory for `ttl` seconds. An admin change on this
instance clears the cache at once; on others it is cleared by a message on the bus (Redis
pub/sub when `storage.redis_url` is set: within a second), or at the latest when the
entry's TTL runs out (without Redis: the 5 s documented in docs/keys.md). Unknown secrets
are remembered for `negative_ttl` so that a flood of bad keys does not become a flood of
queries. Concurrent misses for one secret share one query (`loading_cache.LoadingCache`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from relaygate.access.principals import principal_of
from relaygate.errors import AuthenticationFailed
from relaygate.loading_cache import LoadingCache
from relaygate.pipeline.auth import Principal
from relaygate.store.access import AccessStore

MAX_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal | None  # None: no such key
    valid_until: float | None  # expiry, or the end of a rotated secret's grace period
    revoked: bool
    fetched_at: float


class KeyCache:
    def __init__(
        self, store: Callable[[], Awaitable[AccessStore]], ttl: float, negative_ttl: float = 1.0
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._cache: LoadingCache[str, _Entry] = LoadingCache(MAX_ENTRIES)
        self._entries = self._cache.entries

    async def principal(self, digest: str) -> Principal | None:
        """The key's principal; None for an unknown secret; raises for revoked or expired."""
        now = time.time()
        entry = self._entries.get(digest)
        if entry is None or now - entry.fetched_at > (
            self._ttl if entry.principal is not None else self._negative_ttl
        ):
            entry = await self._cache.load(digest, self._query)
        if entry.principal is None:
            return None
        if entry.revoked:
            raise AuthenticationFailed("This API key has been revoked.", code="revoked_api_key")
        if entry.valid_until is not None and now >= entry.valid_until:
            raise AuthenticationFailed("This API key has expired.", code="expired_api_key")
        return entry.principal

    def clear(self) -> None:
        self._cache.clear()

    async def _query(self, digest: str) -> _Entry:
        store = await self._store()
        found = await store.by_digest(digest)
        now = time.time()
        if found is None:
            return _Entry(None, None, False, now)
        key, tenant = found
        valid_until = key.expires_at
        if key.digest != digest:  # the previous secret of a rotated key
            grace = key.previous_valid_until or 0.0
            valid_until = grace if valid_until is None else min(grace, valid_until)
        return _Entry(principal_of(key, tenant), valid_until, key.revoked_at is not None, now)
