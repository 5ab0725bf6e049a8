"""Measurements wrk cannot make: stream time to first byte, start-up, CPU time, RSS."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` so far (from /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of the whole line
    return (utime + stime) / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def wait_ready(
    port: int,
    path: str = "/readyz",
    timeout: float = 30.0,
    process: subprocess.Popen[bytes] | None = None,
) -> float:
    """Poll `GET path` every 5 ms until 200; the seconds it took. Fails at once if
    `process` (the server) exits meanwhile."""
    started = time.perf_counter()
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    while time.perf_counter() - started < timeout:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(request)
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return time.perf_counter() - started
        except OSError:
            pass
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before it was ready")
        time.sleep(0.005)
    raise TimeoutError(f"port {port} not ready after {timeout}s")


def _request(port: int, body: bytes) -> bytes:
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nAuthorization: Bearer bench-key\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


async def _ttfb_samples(port: int, body: bytes, count: int, warmup: int) -> list[float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = _request(port, body)
    samples: list[float] = []
    try:
        for index in range(warmup + count):
            started = time.perf_counter()
            writer.write(request)
            buffer = b""
            first: float | None = None
            while True:
                data = await reader.read(65536)
                if not data:
                    raise ConnectionError("server closed the connection")
                buffer += data
                if first is None and b"data:" in buffer:
                    first = time.perf_counter() - started
                if buffer.endswith(b"\r\n0\r\n\r\n") and b"[DONE]" in buffer:
                    break
            if not buffer.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(buffer[:300].decode(errors="replace"))
            if index >= warmup and first is not None:
                samples.append(first)
    finally:
        writer.close()
    return samples


def stream_ttfb_ms(port: int, body: bytes, count: int = 300, warmup: int = 30) -> float:
    """Median time from sending a streaming request to its first `data:` byte, sequentially."""
    samples = asyncio.run(_ttfb_samples(port, body, count, warmup))
    return statistics.median(samples) * 1000
