"""Generated images kept for a while, per tenant, so a `url` answer points at the gateway
rather than at an upstream's (short-lived, vendor-signed) address.

A stored image is reached by an unguessable token (`secrets.token_urlsafe`), the way an
upstream's signed URL is, so an `<img>` tag can show it without a key. Each tenant has a
byte budget (its oldest images go first; in process only) and every image expires after
`ttl_seconds`. With Redis (`storage.redis_url`) any instance serves an image another
stored; there only the expiry bounds what is kept (no per-tenant byte budget yet)."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from relaygate.images.settings import ImageSettings

_PREFIX = "relaygate:image:"


@dataclass(frozen=True, slots=True)
class StoredImage:
    tenant: str
    mime_type: str
    data: bytes


class ImageStore:
    def __init__(self, settings: ImageSettings, redis: Any = None) -> None:
        self._ttl = settings.url_ttl_seconds
        self._cap = settings.max_bytes_per_tenant
        self._redis = redis
        self._images: OrderedDict[str, tuple[float, StoredImage]] = OrderedDict()
        self._bytes: dict[str, int] = {}

    @property
    def ttl_seconds(self) -> float:
        return self._ttl

    async def put(self, tenant: str, data: bytes, mime_type: str) -> str:
        """Keep the image; its token (the last part of its URL)."""
        token = secrets.token_urlsafe(24)
        if self._redis is not None:
            key = _PREFIX + token
            async with self._redis.pipeline(transaction=True) as pipe:  # never without expiry
                pipe.hset(key, mapping={"tenant": tenant, "mime": mime_type, "data": data})
                pipe.pexpire(key, int(self._ttl * 1000))
                await pipe.execute()
            return token
        self._expire()
        image = StoredImage(tenant, mime_type, data)
        self._images[token] = (time.monotonic() + self._ttl, image)
        self._bytes[tenant] = self._bytes.get(tenant, 0) + len(data)
        self._evict(tenant)
        return token

    async def get(self, token: str) -> StoredImage | None:
        if self._redis is not None:
            found = await self._redis.hgetall(_PREFIX + token)
            if not found:
                return None
            return StoredImage(found[b"tenant"].decode(), found[b"mime"].decode(), found[b"data"])
        self._expire()
        entry = self._images.get(token)
        return entry[1] if entry is not None else None

    def _forget(self, token: str) -> None:
        _, image = self._images.pop(token)
        self._bytes[image.tenant] -= len(image.data)

    def _expire(self) -> None:
        now = time.monotonic()
        while self._images:
            token, (expires, _) = next(iter(self._images.items()))
            if expires > now:
                return
            self._forget(token)

    def _evict(self, tenant: str) -> None:
        """Over the tenant's budget: its oldest images go (the newest always stays)."""
        for token in [t for t, (_, image) in self._images.items() if image.tenant == tenant]:
            if self._bytes[tenant] <= self._cap or token == next(reversed(self._images)):
                return
            self._forget(token)
