"""The Redis limiter: the same limits, counted in Redis (one script per check, the checks
of one event-loop turn in one pipeline)."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from pathlib import Path

import httpx
from redis.asyncio import Redis

from relaygate.limits.meters import Kind, Meter
from relaygate.limits.redis_limiter import RedisLimiter
from tests.conftest import REDIS_URL
from tests.limits.support import AUTH, chat, config, serve


def _redis(tmp_path: Path, **key_limits: int) -> dict[str, object]:
    settings = config(tmp_path, key_limits=key_limits)
    settings["storage"] = {**settings["storage"], "redis_url": REDIS_URL}
    return settings


def test_requests_are_counted_in_redis(tmp_path: Path) -> None:
    with serve(_redis(tmp_path, rpm=3)) as url, \
            httpx.Client(base_url=url, headers=AUTH) as client:
        statuses = [chat(client).status_code for _ in range(4)]
        refused = chat(client)
    assert statuses == [200, 200, 200, 429]
    assert refused.json()["error"]["type"] == "requests"
    assert 55 <= float(refused.headers["retry-after-ms"]) / 1000 <= 60.2


def test_tokens_are_reserved_and_settled_in_redis(tmp_path: Path) -> None:
    with serve(_redis(tmp_path, tpm=1000)) as url, \
            httpx.Client(base_url=url, headers=AUTH) as client:
        first = chat(client, max_tokens=500)
        used = first.json()["usage"]["total_tokens"]
        deadline = time.monotonic() + 5
        while True:  # the settle is sent off the request path, just after the response
            probe = chat(client, "x", max_tokens=985)
            found = re.search(r"used (\d+),", probe.json()["error"]["message"])
            assert found is not None, probe.text
            if int(found.group(1)) == used or time.monotonic() > deadline:
                break
            time.sleep(0.02)
    assert first.headers["x-ratelimit-remaining-tokens"] == str(1000 - 8 - 500)
    assert int(found.group(1)) == used


async def test_checks_made_together_are_counted_exactly_and_survive_a_script_flush() -> None:
    """Concurrent checks go to Redis as one pipeline; each still gets its own verdict, and a
    Redis that lost the scripts (SCRIPT FLUSH, a restart) has them loaded again."""
    redis = Redis.from_url(REDIS_URL)
    prefix = f"test-limits-{uuid.uuid4().hex}:"
    limiter = RedisLimiter(redis, prefix, lease_seconds=30)
    try:
        verdicts = await asyncio.gather(*(
            limiter.check([Meter("key:together", Kind.RPM, 5, 1)], f"lease-{index}")
            for index in range(20)
        ))
        assert sum(verdict.allowed for verdict in verdicts) == 5
        refused = [verdict for verdict in verdicts if not verdict.allowed]
        assert all(verdict.retry_after is not None and verdict.retry_after > 50
                   for verdict in refused)
        await redis.script_flush()
        again = await asyncio.gather(*(
            limiter.check([Meter("key:after-flush", Kind.RPM, 3, 1)], f"again-{index}")
            for index in range(4)
        ))
        assert [verdict.allowed for verdict in again].count(True) == 3
    finally:
        limiter.close()
        keys = [key async for key in redis.scan_iter(f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
