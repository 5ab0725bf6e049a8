"""Sessions benchmark (not a timed test): what a session turn costs over a bare chat
completion, and what an idle SSE subscriber costs, on one gateway process.

    .venv/bin/python bench/sessions.py                      # 500 turns, 5,000 subscribers
    .venv/bin/python bench/sessions.py --turns 100 --subscribers 200

1. Turn overhead: the same short message through `POST /v1/chat/completions` (model
   `mock`) and through `POST /api/sessions/{id}/messages` (a new session every 10 turns,
   so history stays short), one request at a time on one keep-alive connection; then the
   same at concurrency 10. The difference is the session's work: lookup, history, token
   counting, the lock, the event log and the commit to SQLite.
2. Idle subscribers: N `GET /api/sessions/{id}/stream` connections spread over 50
   sessions; the gateway's RSS before and after they are all connected (each has its
   welcome), divided by N; then one turn per session and the time until every subscriber
   has its `message.completed`.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson
from probes import rss_mib, wait_ready

ROOT = Path(__file__).resolve().parent.parent
SESSION_SPREAD = 50


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_gateway(directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    config = directory / "relaygate.yaml"
    config.write_text(
        "server: {log_level: warning}\n"
        f"storage: {{database_url: 'sqlite+aiosqlite:///{directory / 'bench.db'}'}}\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "relaygate", "serve", "--config", str(config), "--port", str(port)],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=(directory / "gateway.log").open("wb"),
    )
    wait_ready(port)
    return process, port


def _summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"mean {statistics.fmean(ordered):6.2f} ms  p50 {statistics.median(ordered):6.2f} ms  p99 {p99:6.2f} ms"


async def _timed(session: aiohttp.ClientSession, url: str, body: dict[str, object]) -> float:
    started = time.perf_counter()
    async with session.post(
        url, data=orjson.dumps(body), headers={"content-type": "application/json"}
    ) as reply:
        await reply.read()
        if reply.status != 200:
            raise SystemExit(f"bench: {url} answered {reply.status}")
    return (time.perf_counter() - started) * 1000


async def _new_session(session: aiohttp.ClientSession, base: str) -> str:
    async with session.post(f"{base}/api/sessions", json={"model": "mock"}) as reply:
        session_id: str = (await reply.json())["session_id"]
        return session_id


async def turn_overhead(base: str, turns: int, concurrency: int) -> tuple[list[float], list[float]]:
    chat_body = {"model": "mock", "messages": [{"role": "user", "content": "hello there"}]}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(20):  # warm up both paths
            await _timed(session, f"{base}/v1/chat/completions", chat_body)
        sessions = [await _new_session(session, base) for _ in range(max(1, turns // 10))]
        for session_id in sessions[:2]:
            await _timed(session, f"{base}/api/sessions/{session_id}/messages", {"message": "warm"})

        async def run(make: list[tuple[str, dict[str, object]]]) -> list[float]:
            queue = list(make)
            samples: list[float] = []

            async def worker() -> None:
                while queue:
                    url, body = queue.pop()
                    samples.append(await _timed(session, url, body))

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return samples

        bare = await run([(f"{base}/v1/chat/completions", chat_body)] * turns)
        posts: list[tuple[str, dict[str, object]]] = [
            (
                f"{base}/api/sessions/{sessions[index % len(sessions)]}/messages",
                {"message": "hello there"},
            )
            for index in range(turns)
        ]
        turned = await run(posts)
    return bare, turned


async def _subscribe(
    session: aiohttp.ClientSession,
    url: str,
    welcomed: asyncio.Event,
    counter: list[int],
    done: list[int],
) -> None:
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=None, sock_read=None)) as reply:
        async for line in reply.content:
            if line.startswith(b"event: message") and not welcomed.is_set():
                counter[0] += 1
                welcomed.set()
            elif line.startswith(b"event: message.completed"):
                done[0] += 1
                return


async def idle_subscribers(base: str, pid: int, count: int) -> None:
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        sessions = [await _new_session(session, base) for _ in range(min(SESSION_SPREAD, count))]
        await asyncio.sleep(0.5)
        before = rss_mib(pid)
        connected, done = [0], [0]
        events = [asyncio.Event() for _ in range(count)]
        tasks = []
        started = time.perf_counter()
        for index in range(count):
            url = f"{base}/api/sessions/{sessions[index % len(sessions)]}/stream"
            tasks.append(
                asyncio.create_task(_subscribe(session, url, events[index], connected, done))
            )
            if index % 200 == 199:
                await asyncio.sleep(0.05)  # do not overflow the listen backlog
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in events)), timeout=300)
        connect_seconds = time.perf_counter() - started
        await asyncio.sleep(1.0)
        after = rss_mib(pid)
        per = (after - before) * 1024 / count
        print(f"  {count} idle subscribers connected in {connect_seconds:.1f} s")
        print(f"  gateway RSS {before:.1f} MiB -> {after:.1f} MiB: {per:.1f} KiB per subscriber")
        started = time.perf_counter()
        for session_id in sessions:
            await _timed(
                session, f"{base}/api/sessions/{session_id}/messages", {"message": "hello all"}
            )
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
        print(
            f"  one turn on each of {len(sessions)} sessions reached all {done[0]} subscribers "
            f"in {(time.perf_counter() - started) * 1000:.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--subscribers", type=int, default=5000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, args.subscribers * 2 + 1024)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))  # inherited by the gateway
    with tempfile.TemporaryDirectory(prefix="relaygate-bench-sessions-") as tmp:
        process, port = start_gateway(Path(tmp))
        base = f"http://127.0.0.1:{port}"
        try:
            for concurrency in (1, 10):
                bare, turned = asyncio.run(turn_overhead(base, args.turns, concurrency))
                print(f"turn overhead, {args.turns} requests at concurrency {concurrency}:")
                print(f"  bare chat completion  {_summary(bare)}")
                print(f"  session turn          {_summary(turned)}")
                extra = statistics.median(turned) - statistics.median(bare)
                print(f"  session overhead      {extra:+.2f} ms at p50")
            print(f"idle SSE subscribers ({args.subscribers}, over {SESSION_SPREAD} sessions):")
            asyncio.run(idle_subscribers(base, process.pid, args.subscribers))
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
