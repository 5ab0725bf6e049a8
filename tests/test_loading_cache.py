"""The in-process cache under the key and prompt-template lookups: one load for concurrent
misses, and a change made while a load runs is never hidden behind that older read."""

from __future__ import annotations

import asyncio

from relaygate.loading_cache import LoadingCache


async def test_concurrent_misses_share_one_load_and_a_clear_meanwhile_wins() -> None:
    cache: LoadingCache[str, int] = LoadingCache(max_entries=10)
    loads = 0
    release = asyncio.Event()

    async def load(key: str) -> int:
        nonlocal loads
        loads += 1
        await release.wait()
        return loads

    first = asyncio.ensure_future(cache.load("a", load))
    second = asyncio.ensure_future(cache.load("a", load))
    await asyncio.sleep(0)
    cache.clear()  # a change lands while the read is on its way
    release.set()
    assert await first == await second == 1 and loads == 1
    assert "a" not in cache.entries  # the older read is not kept
    assert await cache.load("a", load) == 2 and cache.entries["a"] == 2
