"""The cache in Redis: two gateway processes share their entries, and a Redis that stops
answering turns lookups into misses (the call is served, never refused)."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from redis import Redis

from tests.cache.conftest import Upstreams, cache_gateway
from tests.cache.test_cache_sdk import GLOBEX, ask, sdk
from tests.conftest import REDIS_URL
from tests.support.own_redis import own_redis
from tests.support.servers import run_gateway


def test_two_instances_share_one_cache(tmp_path: Path, upstreams: Upstreams) -> None:
    prefix = f"relaygate:test-cache:{uuid.uuid4().hex[:8]}:"
    config = upstreams.config({"redis_prefix": prefix}, storage={
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}", "redis_url": REDIS_URL})
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with run_gateway(tmp_path / "a", config) as a, run_gateway(tmp_path / "b", config) as b:
        before = upstreams.sent()
        assert ask(sdk(a.base_url))[1] == "miss"
        time.sleep(0.2)  # the answer is stored behind the response: its SET's round trip
        text, header = ask(sdk(b.base_url))
        assert header == "hit" and text
        assert ask(sdk(b.base_url, GLOBEX))[1] == "miss"  # tenants apart in Redis too
        with sdk(b.base_url).chat.completions.stream(
            model="gpt", messages=[{"role": "user", "content": "streamed on b"}],
            temperature=0,
        ) as stream:
            streamed = stream.get_final_completion().choices[0].message.content
        time.sleep(0.2)
        assert ask(sdk(a.base_url),
                   messages=[{"role": "user", "content": "streamed on b"}]) == (streamed, "hit")
        assert upstreams.sent() - before == 3
        admin_less = httpx.delete(f"{a.base_url}/admin/cache")
        assert admin_less.status_code == 404  # no admin key: the admin API is off


@pytest.fixture
def redis_port(tmp_path: Path) -> Iterator[int]:
    with own_redis(tmp_path) as port:
        yield port


def test_a_redis_outage_serves_every_call_from_the_upstream(
    tmp_path: Path, upstreams: Upstreams, redis_port: int
) -> None:
    config = upstreams.config(storage={"redis_url": f"redis://127.0.0.1:{redis_port}/0"})
    with cache_gateway(tmp_path, config) as gateway:
        client = sdk(gateway.base_url)
        assert [ask(client)[1] for _ in range(2)] == ["miss", "hit"]
        subprocess.run(["redis-cli", "-p", str(redis_port), "shutdown", "nosave"],
                       capture_output=True)
        before = upstreams.sent()
        for _ in range(2):
            text, header = ask(client)
            assert text and header == "miss"
        assert upstreams.sent() - before == 2
        metrics = httpx.get(f"{gateway.base_url}/metrics").text
        errors = next(line for line in metrics.splitlines()
                      if line.startswith("relaygate_cache_store_errors_total"))
        assert float(errors.split()[-1]) >= 2


def test_an_entry_another_version_wrote_is_a_miss_then_kept_again(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    """A rolling upgrade: entries in Redis whose layout this version does not read are
    misses (the upstream answers, nothing fails) and are overwritten with a readable one."""
    prefix = f"relaygate:test-cache:{uuid.uuid4().hex[:8]}:"
    config = upstreams.config({"redis_prefix": prefix}, storage={"redis_url": REDIS_URL})
    redis = Redis.from_url(REDIS_URL)
    with cache_gateway(tmp_path, config) as gateway:
        client = sdk(gateway.base_url)
        text, header = ask(client)
        assert header == "miss"
        time.sleep(0.2)  # stored behind the response
        [key] = redis.keys(f"{prefix}*")
        length, _, rest = redis.get(key).partition(b"\n")
        header_json = orjson.loads(rest[: int(length)])
        header_json["usage"] = {"_t": "Usage", "input_tokens": 1, "output_tokens": 2}
        old = orjson.dumps(header_json)
        redis.set(key, b"%d\n%b%b" % (len(old), old, rest[int(length):]))
        before = upstreams.sent()
        assert ask(client) == (text, "miss")
        assert upstreams.sent() - before == 1
        time.sleep(0.2)
        assert ask(client) == (text, "hit")
    redis.close()
