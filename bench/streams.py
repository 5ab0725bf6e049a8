"""N concurrent SSE streams through one gateway process: completion time, inter-chunk gaps
and memory per stream.

The gateway (`relaygate serve`, one worker, pinned to CPU 1) serves the mock provider with
`stream_delay_ms` (default 20): each stream is a chat completion of WORDS words, one chunk
every delay. The client (raw asyncio sockets on uvloop, CPU 0) opens all N streams at once
and stamps every `data:` read on arrival. Reported:

- completion: first request sent → last stream's `[DONE]` (ideal: about WORDS × delay);
- gap p50/p99: time between successive words of a stream, over every stream (ideal: the
  delay; words that arrive together have a gap of 0 between them, the first of them the
  whole wait);
- KiB per stream: (peak gateway RSS during the run − RSS before) / N.

Run: python bench/streams.py [--streams 10000] [--delay-ms 20] [--words 10] [--src DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from probes import rss_mib, wait_ready
from run import free_port, stop

GATEWAY_CPU, CLIENT_CPU = "1", "0"
_WORD = re.compile(rb"\bw\d+\b")


async def _one(port: int, body: bytes, gaps: list[float]) -> bool:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json"
            f"\r\ncontent-length: {len(body)}\r\n\r\n").encode()
    writer.write(head + body)
    last = 0.0
    done = False
    try:
        while not done:
            data = await reader.read(65536)
            if not data:
                break
            words = len(_WORD.findall(data))  # not the role, finish or usage chunks
            if words:
                now = time.monotonic()
                if last:
                    gaps.append(now - last)
                gaps.extend([0.0] * (words - 1))  # words that came together: no gap between
                last = now
            done = b"[DONE]" in data
    finally:
        writer.close()
    return done


async def _drive(port: int, streams: int, words: int, pid: int) -> dict[str, float]:
    text = " ".join(f"w{index}" for index in range(words))
    body = json.dumps({"model": "echo", "stream": True,
                       "messages": [{"role": "user", "content": text}]}).encode()
    gaps: list[float] = []
    base = rss_mib(pid)
    peak = base
    started = time.monotonic()
    tasks = [asyncio.create_task(_one(port, body, gaps)) for _ in range(streams)]
    pending = set(tasks)
    while pending:
        _, pending = await asyncio.wait(pending, timeout=0.1)
        peak = max(peak, rss_mib(pid))
    took = time.monotonic() - started
    completed = sum(1 for task in tasks if not task.exception() and task.result())
    gaps.sort()
    return {
        "streams": streams, "completed": completed, "seconds": took,
        "gap_p50_ms": gaps[len(gaps) // 2] * 1000 if gaps else 0.0,
        "gap_p99_ms": gaps[int(len(gaps) * 0.99)] * 1000 if gaps else 0.0,
        "kib_per_stream": (peak - base) * 1024 / streams,
        "rss_before_mib": base, "rss_peak_mib": peak,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--words", type=int, default=10)
    parser.add_argument("--src", help="the relaygate sources to run (default: this tree's)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="relaygate-streams-") as folder:
        port = free_port()
        config = {
            "server": {"port": port, "log_level": "warning", "shutdown_grace_seconds": 1},
            "storage": {"database_url": f"sqlite+aiosqlite:///{folder}/s.db"},
            "providers": {"mock": {"type": "mock", "stream_delay_ms": args.delay_ms}},
            "models": [{"name": "echo", "provider": "mock"}],
        }
        path = Path(folder) / "streams.json"
        path.write_text(json.dumps(config))
        env = {key: value for key, value in os.environ.items() if not key.startswith("RELAYGATE")}
        env["PYTHONPATH"] = args.src or str(Path(__file__).resolve().parent.parent / "src")
        gateway = subprocess.Popen(
            ["taskset", "-c", GATEWAY_CPU, sys.executable, "-m", "relaygate", "serve",
             "--config", str(path)], env=env, cwd=folder)
        try:
            wait_ready(port, "/readyz", timeout=120, process=gateway)
            os.sched_setaffinity(0, {int(CLIENT_CPU)})
            try:
                import uvloop

                uvloop.install()
            except ImportError:
                pass
            asyncio.run(_drive(port, 20, args.words, gateway.pid))  # warm up
            result = asyncio.run(_drive(port, args.streams, args.words, gateway.pid))
        finally:
            stop(gateway)
    ideal = args.words * args.delay_ms
    print(f"{result['completed']:,}/{result['streams']:,} streams of {args.words} chunks, "
          f"one every {args.delay_ms:g} ms (ideal ≈ {ideal:g} ms)")
    print(f"completion {result['seconds']:.2f} s · gap p50 {result['gap_p50_ms']:.1f} ms · "
          f"p99 {result['gap_p99_ms']:.1f} ms · {result['kib_per_stream']:.1f} KiB per stream "
          f"(RSS {result['rss_before_mib']:.0f} → {result['rss_peak_mib']:.0f} MiB)")
    return 0 if result["completed"] == result["streams"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
