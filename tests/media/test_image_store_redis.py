"""Images kept in Redis: any instance's store serves them, and each has its expiry set in
the same transaction as its data (a crash between the two cannot leave it forever)."""

from __future__ import annotations

import redis.asyncio as redis

from relaygate.images.settings import ImageSettings
from relaygate.images.store import ImageStore
from tests.conftest import REDIS_URL


async def test_an_image_stored_in_redis_is_served_by_another_store_and_expires() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        settings = ImageSettings(url_ttl_seconds=30)
        token = await ImageStore(settings, client).put("acme", b"\x89PNG...", "image/png")
        image = await ImageStore(settings, client).get(token)  # another instance's store
        assert image is not None and image.tenant == "acme" and image.data == b"\x89PNG..."
        ttl_ms = await client.pttl(f"relaygate:image:{token}")
        assert 0 < ttl_ms <= 30_000
        assert await ImageStore(settings, client).get("not-a-token") is None
    finally:
        await client.aclose()
