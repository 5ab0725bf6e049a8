"""Tokens of streams settle as they end (also when the client goes away), and
max_concurrent holds a slot per stream until its last byte."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import httpx

from tests.limits.support import AUTH, chat, config, serve

WORDS = " ".join(f"w{n}" for n in range(40))  # slow-echo: 40 words, 50 ms apart


def _used(client: httpx.Client, limit: int) -> int:
    """What the key's token window holds: a probe that cannot fit says it."""
    probe = chat(client, "x", max_tokens=limit - 50)
    assert probe.status_code == 429, probe.text
    found = re.search(r"used (\d+),", probe.json()["error"]["message"])
    assert found is not None
    return int(found.group(1))


def test_a_stream_is_settled_with_its_real_usage_when_it_ends(tmp_path: Path) -> None:
    with serve(config(tmp_path, key_limits={"tpm": 10_000})) as url, \
            httpx.Client(base_url=url, headers=AUTH, timeout=30) as client:
        body = {"model": "slow-echo", "stream": True, "max_tokens": 5000,
                "stream_options": {"include_usage": True},
                "messages": [{"role": "user", "content": WORDS}]}
        with client.stream("POST", "/v1/chat/completions", json=body) as reply:
            assert reply.status_code == 200
            lines = reply.iter_lines()
            next(lines)
            during = _used(client, 10_000)  # the reservation stands while it streams
            text = "\n".join(lines)
        usage = [line for line in text.splitlines() if '"usage":{' in line]
        total = int(re.findall(r'"total_tokens":(\d+)', usage[-1])[0])
        after = _used(client, 10_000)
    assert during >= 5000
    assert after == total < 5000


def test_a_stream_the_client_left_is_settled_too(tmp_path: Path) -> None:
    with serve(config(tmp_path, key_limits={"tpm": 10_000})) as url, \
            httpx.Client(base_url=url, headers=AUTH, timeout=30) as client:
        body = {"model": "slow-echo", "stream": True, "max_tokens": 5000,
                "messages": [{"role": "user", "content": WORDS}]}
        with client.stream("POST", "/v1/chat/completions", json=body) as reply:
            lines = reply.iter_lines()
            next(lines)
            next(lines)
        # the gateway notices at its next write (within a word, 50 ms) and settles
        deadline = time.monotonic() + 5
        while (used := _used(client, 10_000)) >= 5000 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert 0 < used < 5000  # the input and the words sent, not the reservation


async def _stream_status(client: httpx.AsyncClient, started: float) -> tuple[int, float, float]:
    """(status, seconds to the status, seconds to the end of the body)."""
    body = {"model": "slow-echo", "stream": True,
            "messages": [{"role": "user", "content": WORDS}]}
    async with client.stream("POST", "/v1/chat/completions", json=body) as reply:
        status_at = time.monotonic() - started
        await reply.aread()
        return reply.status_code, status_at, time.monotonic() - started


def test_max_concurrent_lets_three_streams_run_and_refuses_seven_at_once(tmp_path: Path) -> None:
    async def run(url: str) -> tuple[list[tuple[int, float, float]], int]:
        async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=30) as client:
            started = time.monotonic()
            results = await asyncio.gather(*(_stream_status(client, started) for _ in range(10)))
            after = (await _stream_status(client, time.monotonic()))[0]
            return list(results), after

    with serve(config(tmp_path, key_limits={"max_concurrent": 3})) as url:
        results, after = asyncio.run(run(url))
    ran = [result for result in results if result[0] == 200]
    refused = [result for result in results if result[0] == 429]
    assert len(ran) == 3 and len(refused) == 7
    assert all(status_at < 1.0 for _, status_at, _ in refused)  # at once, not after a wait
    assert all(ended > 1.5 for _, _, ended in ran)  # the streams really were in flight
    assert after == 200  # their slots came back when they ended
