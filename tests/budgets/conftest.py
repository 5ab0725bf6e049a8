"""The shared budget counters of each backend (SQLite, PostgreSQL, Redis), empty."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from relaygate.budgets.counters import BudgetCounters
from relaygate.budgets.redis_counters import RedisCounters
from relaygate.budgets.sql_counters import SqlCounters
from relaygate.store.db import Database
from relaygate.store.schema import upgrade
from tests.conftest import REDIS_URL
from tests.support.databases import database_url


@pytest.fixture(params=["sqlite", "postgres", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "redis":
        yield "redis"
        return
    with database_url(request.param, tmp_path) as url:
        asyncio.run(upgrade(url))
        yield url


@pytest.fixture
async def counters(backend: str) -> AsyncIterator[BudgetCounters]:
    if backend == "redis":
        redis = Redis.from_url(REDIS_URL)
        prefix = f"test-budget-{uuid.uuid4().hex}:"
        yield RedisCounters(redis, prefix)
        keys = [key async for key in redis.scan_iter(f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        return
    database = Database(backend)

    async def opened() -> Database:
        return database

    yield SqlCounters(opened)
    await database.close()
