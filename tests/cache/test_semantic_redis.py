"""RedisSemanticIndex: two instances on two clients share entries and clears; Redis down fails loudly."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from relaygate.cache.embedder import BundledE5Embedder
from relaygate.cache.semantic_redis import RedisSemanticIndex, SemanticStoreError
from tests.cache.support import FakeClock, WordHashEmbedder
from tests.conftest import REDIS_URL
from tests.support.servers import free_port

NS = "acme\x1fgpt-4o\x1fctx"


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    value = f"test:semcache:{uuid.uuid4().hex}:"
    yield value
    client = Redis.from_url(REDIS_URL)
    await client.delete(value + "log")
    await client.aclose()


@pytest.fixture
async def clients() -> AsyncIterator[tuple[Redis, Redis]]:
    first, second = Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)
    yield first, second
    await first.aclose()
    await second.aclose()


async def test_an_entry_added_by_one_instance_is_found_by_the_other(
    e5: BundledE5Embedder, clients: tuple[Redis, Redis], prefix: str
) -> None:
    one = RedisSemanticIndex(clients[0], e5, prefix=prefix)
    two = RedisSemanticIndex(clients[1], e5, prefix=prefix)
    await one.add(NS, "What is the currency of Switzerland?", "key-chf", ttl_s=60)

    found = await two.nearest(NS, "Which currency is used in Switzerland?")
    assert found is not None and found[0] == "key-chf"
    assert await two.nearest(NS, "What is the currency of Sweden?") is None
    assert await two.nearest("other\x1fgpt-4o\x1fctx", "What is the capital of France?") is None


async def test_clear_on_one_instance_empties_the_other(
    clients: tuple[Redis, Redis], prefix: str
) -> None:
    one = RedisSemanticIndex(clients[0], WordHashEmbedder(), 0.9, prefix=prefix)
    two = RedisSemanticIndex(clients[1], WordHashEmbedder(), 0.9, prefix=prefix)
    await one.add("acme\x1fm1\x1fc", "alpha beta", "k1", ttl_s=60)
    await one.add("acme\x1fm2\x1fc", "alpha beta", "k2", ttl_s=60)
    await one.add("zeta\x1fm1\x1fc", "alpha beta", "k3", ttl_s=60)
    assert await two.nearest("acme\x1fm1\x1fc", "alpha beta") is not None

    assert await one.clear("acme\x1fm1\x1f") == 1
    assert await two.nearest("acme\x1fm1\x1fc", "alpha beta") is None
    assert await two.nearest("acme\x1fm2\x1fc", "alpha beta") is not None

    await two.clear("acme\x1f")
    assert await one.nearest("acme\x1fm2\x1fc", "alpha beta") is None
    assert await one.nearest("zeta\x1fm1\x1fc", "alpha beta") is not None


async def test_discard_and_ttl_reach_the_other_instance(
    clients: tuple[Redis, Redis], prefix: str
) -> None:
    clock = FakeClock()
    one = RedisSemanticIndex(clients[0], WordHashEmbedder(), 0.9, prefix=prefix, clock=clock)
    two = RedisSemanticIndex(clients[1], WordHashEmbedder(), 0.9, prefix=prefix, clock=clock)
    await one.add(NS, "alpha beta", "k1", ttl_s=60)
    await one.add(NS, "gamma delta", "k2", ttl_s=10)
    await one.discard("k1")
    assert await two.nearest(NS, "alpha beta") is None
    assert await two.nearest(NS, "gamma delta") is not None
    clock.now += 11
    assert await two.nearest(NS, "gamma delta") is None


async def test_a_mirror_behind_a_trimmed_stream_replays_it(
    clients: tuple[Redis, Redis], prefix: str
) -> None:
    one = RedisSemanticIndex(clients[0], WordHashEmbedder(), 0.9, prefix=prefix,
                             stream_max_entries=10)
    two = RedisSemanticIndex(clients[1], WordHashEmbedder(), 0.9, prefix=prefix)
    await one.add(NS, "first entry", "k0", ttl_s=60)
    assert await two.nearest(NS, "first entry") is not None  # two has read one entry
    for number in range(1, 400):
        await one.add(NS, f"entry number{number}", f"k{number}", ttl_s=60)
    assert await clients[0].xlen(prefix + "log") < 400  # trimmed past two's last id
    found = await two.nearest(NS, "entry number399")
    assert found is not None and found[0] == "k399"


async def test_redis_down_raises_semantic_store_error() -> None:
    client = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    index = RedisSemanticIndex(client, WordHashEmbedder(), 0.9)
    with pytest.raises(SemanticStoreError):
        await index.nearest(NS, "anything")
    with pytest.raises(SemanticStoreError):
        await index.add(NS, "anything", "k", ttl_s=60)
    with pytest.raises(SemanticStoreError):
        await index.clear()
    await client.aclose()


def test_an_entry_added_in_another_process_is_found(e5: BundledE5Embedder, prefix: str) -> None:
    script = textwrap.dedent(f"""
        import asyncio
        from redis.asyncio import Redis
        from relaygate.cache.embedder import BundledE5Embedder
        from relaygate.cache.semantic_redis import RedisSemanticIndex

        async def main() -> None:
            client = Redis.from_url({REDIS_URL!r})
            index = RedisSemanticIndex(client, BundledE5Embedder(), prefix={prefix!r})
            await index.add({NS!r}, "How do I undo the last git commit?", "key-git", 60)
            await client.aclose()

        asyncio.run(main())
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)

    async def look() -> tuple[str, float] | None:
        client = Redis.from_url(REDIS_URL)
        try:
            index = RedisSemanticIndex(client, e5, prefix=prefix)
            return await index.nearest(NS, "undo my last commit in git")
        finally:
            await client.aclose()

    import asyncio

    found = asyncio.run(look())
    assert found is not None and found[0] == "key-git"
