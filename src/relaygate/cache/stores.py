"""Where entries live: in process (an LRU with a byte cap, the default) or in Redis
(`storage.redis_url`: every instance shares them). Keys are `CacheKey` strings, so a
tenant's or a model's entries can be cleared by their parts."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from relaygate.cache.key import SEPARATOR


class CacheStoreError(Exception):
    """The shared store did not answer (the cache fails open: a miss, not a refusal)."""


class CacheStore(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None: ...

    def keep(self, key: str, value: bytes, ttl_seconds: float) -> bool:
        """`set` at once, when the store can without waiting (in process); False: it cannot,
        `set` it (the caller does, behind the response)."""

    async def clear(self, namespace: str | None = None, model: str | None = None) -> int:
        """Drop the entries of a namespace and/or a model (both None: all); how many."""

    def stats(self) -> tuple[int, int]:
        """(entries, bytes) held in this process (0, 0 for a shared store)."""


def _matches(key: str, namespace: str | None, model: str | None) -> bool:
    key_namespace, key_model, _ = key.split(SEPARATOR, 2)
    return (namespace is None or key_namespace == namespace) and (
        model is None or key_model == model)


class MemoryStore:
    """Least recently used first out, once the values pass `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._bytes = 0

    async def get(self, key: str) -> bytes | None:
        found = self._entries.get(key)
        if found is None:
            return None
        value, expires = found
        if expires <= time.monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        self.keep(key, value, ttl_seconds)

    def keep(self, key: str, value: bytes, ttl_seconds: float) -> bool:
        if len(value) > self._max_bytes:
            return True  # never kept: it would push out everything else
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (value, time.monotonic() + ttl_seconds)
        self._bytes += len(value)
        while self._bytes > self._max_bytes:
            self._drop(next(iter(self._entries)))
        return True

    async def clear(self, namespace: str | None = None, model: str | None = None) -> int:
        doomed = [key for key in self._entries if _matches(key, namespace, model)]
        for key in doomed:
            self._drop(key)
        return len(doomed)

    def stats(self) -> tuple[int, int]:
        return len(self._entries), self._bytes

    def _drop(self, key: str) -> None:
        value, _ = self._entries.pop(key)
        self._bytes -= len(value)


class RedisStore:
    """One GET per lookup, one SET (with its expiry) per store; clearing scans the prefix."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._redis.get(self._prefix + key)
        except RedisError as error:
            raise CacheStoreError(str(error)) from error
        return value if isinstance(value, bytes) or value is None else value.encode()

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        try:
            await self._redis.set(self._prefix + key, value, px=max(1, int(ttl_seconds * 1000)))
        except RedisError as error:
            raise CacheStoreError(str(error)) from error

    def keep(self, key: str, value: bytes, ttl_seconds: float) -> bool:
        return False  # a round trip: the caller sets it behind the response

    async def clear(self, namespace: str | None = None, model: str | None = None) -> int:
        pattern = (self._glob(self._prefix) + (self._glob(namespace) if namespace else "*")
                   + SEPARATOR + (self._glob(model) if model else "*") + SEPARATOR + "*")
        removed = 0
        try:
            batch: list[bytes] = []
            async for key in self._redis.scan_iter(match=pattern, count=500):
                batch.append(key)
                if len(batch) >= 500:
                    removed += await self._redis.unlink(*batch)
                    batch = []
            if batch:
                removed += await self._redis.unlink(*batch)
        except RedisError as error:
            raise CacheStoreError(str(error)) from error
        return removed

    def stats(self) -> tuple[int, int]:
        return 0, 0

    @staticmethod
    def _glob(text: str) -> str:
        """`text` matched literally by a SCAN pattern."""
        return "".join("\\" + char if char in "*?[]\\" else char for char in text)
