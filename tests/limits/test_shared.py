"""Limits shared by several `relaygate serve` instances on one Redis: one budget of
requests across both, slots that come back after a kill -9, and a Redis outage."""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import openai
import pytest
from redis.asyncio import Redis

from tests.conftest import REDIS_URL
from tests.limits.support import AUTH, KEY, config
from tests.support.metrics import metric
from tests.support.servers import GatewayProcess, free_port, run_gateway

WARM_KEY = "sk-limits-warm-up-0123456789"
WORDS = " ".join(f"w{n}" for n in range(40))


def _shared(tmp_path: Path, redis_url: str = REDIS_URL, **limits: Any) -> dict[str, Any]:
    settings = config(tmp_path, **limits)
    settings["storage"] = {**settings["storage"], "redis_url": redis_url}
    return settings


@contextmanager
def _instances(tmp_path: Path, settings: dict[str, Any], count: int) -> Iterator[
        list[GatewayProcess]]:
    """`count` gateway processes on one config (so one Redis), each in its own folder."""
    with ExitStack() as stack:
        gateways = []
        for number in range(count):
            folder = tmp_path / f"instance-{number}"
            folder.mkdir()
            gateways.append(stack.enter_context(run_gateway(folder, settings)))
        yield gateways


async def _warm_up(urls: list[str], clients: int) -> None:
    """Concurrent requests with the unlimited key: connections and lazy loads are ready
    before the measure (a slow first answer would shift its measured time)."""
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {WARM_KEY}"}) as client:
        for _ in range(3):
            await asyncio.gather(*(client.post(f"{urls[n % len(urls)]}/v1/chat/completions",
                                               json={"model": "mock", "messages": [
                                                   {"role": "user", "content": "hi"}]})
                                   for n in range(clients)))


async def _drive(urls: list[str], clients: int, seconds: float,
                 admitted_log: str) -> list[float]:
    """`clients` loops, spread over `urls`, each sending one request after another for
    `seconds` (after a refusal, waiting as `retry-after-ms` says); returns when the limiter let each request
    through, as the server recorded it: the members of the key's request log in Redis
    (`admitted_log`, a sorted set scored by Redis's clock in ms), sampled every 0.25 s —
    each member lives there a minute, so none is missed."""
    await _warm_up(urls, clients)
    redis = Redis.from_url(REDIS_URL)
    admitted: dict[bytes, float] = {}
    started = time.monotonic()
    driving = True

    async def sample() -> None:
        while driving:
            admitted.update(await redis.zrange(admitted_log, 0, -1, withscores=True))
            await asyncio.sleep(0.25)

    async def client_loop(url: str) -> None:
        async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=10) as client:
            while time.monotonic() - started < seconds:
                reply = await client.post("/v1/chat/completions", json={
                    "model": "mock", "messages": [{"role": "user", "content": "hi"}]})
                if reply.status_code != 200:  # back when the oldest admitted one leaves
                    assert reply.status_code == 429, reply.text
                    await asyncio.sleep(min(int(reply.headers["retry-after-ms"]), 1000) / 1000)

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(client_loop(urls[n % len(urls)]) for n in range(clients)))
    driving = False
    await sampler
    admitted.update(await redis.zrange(admitted_log, 0, -1, withscores=True))
    await redis.aclose()
    first = min(admitted.values())
    return sorted((score - first) / 1000 for score in admitted.values())


def _in_minute(times: list[float], start: float) -> int:
    return bisect.bisect_left(times, start + 60) - bisect.bisect_left(times, start)


def _per_rolling_minute(times: list[float], end: float) -> tuple[int, int]:
    """(fewest, most) admitted in a rolling minute: the most in any 60 s window of the
    run, the fewest in any window that lies wholly within it."""
    starts = [step / 100 for step in range(int((end - 60) * 100) + 1)]
    starts += [t for t in times if t <= end - 60]
    counts = [_in_minute(times, start) for start in starts]
    return min(counts), max(counts)


@pytest.mark.timeout(300)  # a 64 s drive, then the SDK waits out a full window
def test_two_instances_share_one_requests_budget(tmp_path: Path) -> None:
    settings = _shared(tmp_path, key_limits={"rpm": 120})
    settings["keys"].append({"tenant": "acme", "key": WARM_KEY})
    owner = f"key:{hashlib.sha256(KEY.encode()).hexdigest()[:12]}"
    admitted_log = f"{settings['limits']['redis_prefix']}{owner}:rpm"
    with _instances(tmp_path, settings, 2) as gateways:
        urls = [gateway.base_url for gateway in gateways]
        times = asyncio.run(_drive(urls, clients=20, seconds=64, admitted_log=admitted_log))
        end = times[-1]
        fewest, most = _per_rolling_minute(times, end)
        print(f"\n120 rpm, 2 instances, 20 clients, {end:.0f} s: {len(times)} let through; "
              f"per rolling minute (server clock): {fewest} to {most}; "
              f"the first minute: {_in_minute(times, 0.0)}")
        assert most <= 120  # an exact sliding log: never one more, on either instance
        assert _in_minute(times, 0.0) >= 118  # and a saturated minute gets all 120
        # `fewest` is printed, not asserted: a window that ends as a burst of slots comes
        # back counts what the clients (told the exact wait) took back in time, which on a
        # loaded 2-core machine measures the machine, not the limiter

        # the window is full: the openai SDK waits as the headers say, and gets through
        statuses: list[int] = []
        sdk = openai.OpenAI(base_url=f"{urls[0]}/v1", api_key=KEY, max_retries=2,
                            http_client=httpx2.Client(event_hooks={"response": [
                                lambda response: statuses.append(response.status_code)]}))
        reply = sdk.chat.completions.with_raw_response.create(
            model="mock", messages=[{"role": "user", "content": "hi"}])
    assert statuses[0] == 429 and statuses[-1] == 200, statuses
    assert reply.parse().choices[0].message.content
    assert int(reply.headers["x-ratelimit-limit-requests"]) == 120


def _slow_stream(url: str) -> subprocess.Popen[bytes]:
    """A client in its own process reading one long stream (it lives past a kill -9)."""
    script = (
        "import httpx, sys\n"
        f"body = {{'model': 'slow-echo', 'stream': True, "
        f"'messages': [{{'role': 'user', 'content': {WORDS!r}}}]}}\n"
        f"with httpx.stream('POST', '{url}/v1/chat/completions', json=body, "
        f"headers={AUTH!r}, timeout=60) as reply:\n"
        "    print(reply.status_code, flush=True)\n"
        "    for _ in reply.iter_bytes(): pass\n"
    )
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)


def test_slots_of_a_killed_instance_come_back_within_the_lease(tmp_path: Path) -> None:
    settings = _shared(tmp_path, key_limits={"max_concurrent": 3}, limits={"lease_seconds": 2})
    settings["providers"]["slow"]["stream_delay_ms"] = 250  # 40 words: 10 s, past the lease
    with _instances(tmp_path, settings, 2) as (holder, other):
        readers = [_slow_stream(holder.base_url) for _ in range(3)]
        try:
            for reader in readers:
                assert reader.stdout is not None
                assert reader.stdout.readline().strip() == b"200"
            with httpx.Client(base_url=other.base_url, headers=AUTH) as client:
                body = {"model": "mock", "messages": [{"role": "user", "content": "hi"}]}
                assert client.post("/v1/chat/completions", json=body).status_code == 429
                time.sleep(3)  # longer than the lease: the holder renews its slots
                assert client.post("/v1/chat/completions", json=body).status_code == 429
                holder.stop(signal.SIGKILL)
                killed = time.monotonic()
                while client.post("/v1/chat/completions", json=body).status_code == 429:
                    assert time.monotonic() - killed < 4, "the slots did not come back"
                    time.sleep(0.1)
                back = time.monotonic() - killed
        finally:
            for reader in readers:
                reader.kill()
                reader.wait()
    print(f"\nslots back {back:.2f} s after kill -9 (lease 2 s)")
    assert back <= 2.5


@contextmanager
def _own_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True
                         ).stdout.strip() != b"PONG":
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    try:
        yield url, server
    finally:
        server.kill()
        server.wait()


def _chat(client: httpx.Client) -> int:
    return client.post("/v1/chat/completions", json={
        "model": "mock", "messages": [{"role": "user", "content": "hi"}]}).status_code


def test_redis_down_fails_open_with_a_log_line_and_a_metric(tmp_path: Path) -> None:
    with _own_redis() as (url, redis), \
            run_gateway(tmp_path, _shared(tmp_path, url, key_limits={"rpm": 100})) as gateway, \
            httpx.Client(base_url=gateway.base_url, headers=AUTH) as client:
        assert _chat(client) == 200
        redis.kill()
        redis.wait()
        statuses = [_chat(client) for _ in range(5)]
        failures = metric(gateway.base_url, "relaygate_limit_store_errors_total",
                          action="allowed")
        logs = gateway.logs()
    assert statuses == [200] * 5
    assert failures == 5
    assert logs.count("rate limit store unavailable: serving without limits") == 1


def test_redis_down_with_deny_refuses_with_503(tmp_path: Path) -> None:
    settings = _shared(tmp_path, key_limits={"rpm": 100}, limits={"on_redis_error": "deny"})
    with _own_redis() as (url, redis):
        settings["storage"]["redis_url"] = url
        with run_gateway(tmp_path, settings) as gateway, \
                httpx.Client(base_url=gateway.base_url, headers=AUTH) as client:
            assert _chat(client) == 200
            redis.kill()
            redis.wait()
            refused = client.post("/v1/chat/completions", json={
                "model": "mock", "messages": [{"role": "user", "content": "hi"}]})
            denied = metric(gateway.base_url, "relaygate_limit_store_errors_total",
                            action="denied")
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "rate_limiter_unavailable"
    assert denied == 1
