"""WebSocket chat at scale: N concurrent connections to one gateway process.

Opens N connections (default 2,000) to one conversation of one `relaygate serve`
process and prints:

- memory per connection: the gateway's RSS growth from a warmed-up baseline (one
  connection already served, one broadcast already made, so lazy imports and first-use
  allocations are not counted) to all N connected, divided by the N-1 added;
- broadcast latency: participant p0 sends a typing indicator and each of the other
  N-1 records when it has it, several rounds; p50/p99 over every arrival and the last
  peer per round.

The client side is spread over `--client-processes` processes (default 4), so that one
Python process parsing 2,000 frames in a row does not add its own queueing to the
figure; arrival times use the system-wide monotonic clock, comparable across processes.
On a machine where client and gateway share the cores the latencies stay pessimistic.
Not a timed test; run it by hand:

    .venv/bin/python bench/websockets.py --connections 2000

The client uses aiohttp (a file named websockets.py cannot import `websockets`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from probes import rss_mib, wait_ready

SCRIPT = Path(__file__).resolve()
SETTLE_SECONDS = 1.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_gateway(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    config = workdir / "relaygate.yaml"
    config.write_text(
        "server: {log_level: warning}\n"
        f"storage: {{database_url: 'sqlite+aiosqlite:///{workdir / 'bench.db'}'}}\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "relaygate", "serve", "--config", str(config), "--port", str(port)],
        cwd=workdir,  # not bench/: this file would shadow the `websockets` package
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "gateway.log").open("wb"),
    )
    wait_ready(port)
    return process, port


class Fleet:
    """Connections p<first>..p<first+count-1>; each records when p0's broadcasts reach it."""

    def __init__(self, url: str, first: int, count: int) -> None:
        self.url = url
        self.names = range(first, first + count)
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []
        self.readers: list[asyncio.Task[None]] = []
        self.arrivals: list[float] = []
        self.expected = 0
        self.all_in = asyncio.Event()

    async def open(self, http: aiohttp.ClientSession, batch: int = 100) -> None:
        names = list(self.names)
        for start in range(0, len(names), batch):
            opened = await asyncio.gather(
                *(http.ws_connect(f"{self.url}?participant=p{n}", heartbeat=None)
                  for n in names[start:start + batch])
            )
            for connection in opened:
                self.sockets.append(connection)
                self.readers.append(asyncio.create_task(self._read(connection)))

    async def _read(self, connection: aiohttp.ClientWebSocketResponse) -> None:
        async for message in connection:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            arrived = time.monotonic()  # before parsing: the parse is the client's cost
            event = json.loads(message.data)
            if event["type"] == "ping":
                await connection.send_str('{"type": "pong"}')
            elif event["type"] == "typing_indicator" and event.get("participant") == "p0":
                self.arrivals.append(arrived)
                if len(self.arrivals) >= self.expected:
                    self.all_in.set()

    def arm(self, expected: int) -> None:
        self.arrivals, self.expected = [], expected
        self.all_in.clear()
        if expected == 0:
            self.all_in.set()

    async def close(self) -> None:
        await asyncio.gather(*(connection.close() for connection in self.sockets))
        for reader in self.readers:
            reader.cancel()


async def _line(stream: asyncio.StreamReader) -> str:
    line = await stream.readline()
    if not line:
        raise RuntimeError("a client process ended early")
    return line.decode().strip()


async def worker(url: str, first: int, count: int) -> None:
    """A client process: open `count` connections, then per round report its arrivals.

    stdin: `arm` (reset, answer `armed`), `report` (answer a JSON list of arrival
    times once every connection has the broadcast), `quit`.
    """
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        fleet = Fleet(url, first, count)
        await fleet.open(http)
        print("ready", flush=True)
        while (command := await _line(commands)) != "quit":
            if command == "arm":
                fleet.arm(count)
                print("armed", flush=True)
            elif command == "report":
                await asyncio.wait_for(fleet.all_in.wait(), 120)
                print(json.dumps(fleet.arrivals), flush=True)
        await fleet.close()


class Clients:
    """The client processes, driven over their stdin/stdout."""

    def __init__(self) -> None:
        self.processes: list[asyncio.subprocess.Process] = []

    async def start(self, url: str, first: int, count: int, processes: int) -> None:
        share, extra = divmod(count, processes)
        for index in range(processes):
            size = share + (1 if index < extra else 0)
            if size == 0:
                continue
            self.processes.append(await asyncio.create_subprocess_exec(
                sys.executable, str(SCRIPT), "--worker", "--url", url,
                "--first", str(first), "--count", str(size),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            ))
            first += size
        await self._all("ready")

    async def _all(self, expected: str | None) -> list[str]:
        lines = []
        for process in self.processes:
            assert process.stdout is not None
            line = await _line(process.stdout)
            if expected is not None and line != expected:
                raise RuntimeError(f"client process said {line!r}, not {expected!r}")
            lines.append(line)
        return lines

    async def tell(self, command: str) -> None:
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(command.encode() + b"\n")
            await process.stdin.drain()

    async def arm(self) -> None:
        await self.tell("arm")
        await self._all("armed")

    async def arrivals(self) -> list[float]:
        await self.tell("report")
        return [when for line in await self._all(None) for when in json.loads(line)]

    async def stop(self) -> None:
        await self.tell("quit")
        for process in self.processes:
            await process.wait()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(connections: int, rounds: int, processes: int, url: str | None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="relaygate-wsbench-"))
    gateway = None
    if url is None:
        gateway, port = start_gateway(workdir)
        url = f"http://127.0.0.1:{port}"
    ws_url = url.replace("http://", "ws://") + "/ws/chat/bench-room"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        sender = Fleet(ws_url, 0, 1)  # p0, in this process
        await sender.open(http)
        await sender.sockets[0].send_str('{"type": "typing_indicator", "typing": false}')
        await asyncio.sleep(SETTLE_SECONDS)  # the warm-up: one connection, one broadcast
        before = rss_mib(gateway.pid) if gateway else None
        clients = Clients()
        started = time.perf_counter()
        await clients.start(ws_url, 1, connections - 1, processes)
        connect_seconds = time.perf_counter() - started
        await asyncio.sleep(SETTLE_SECONDS)
        after = rss_mib(gateway.pid) if gateway else None
        async with http.get(f"{url}/health/ws") as reply:
            health = await reply.json()
        if health["connections"] != connections:
            raise RuntimeError(f"{health['connections']} connections open, not {connections}")
        latencies: list[list[float]] = []
        for round_number in range(rounds):
            await clients.arm()
            sent = time.monotonic()
            typing = json.dumps({"type": "typing_indicator", "typing": round_number % 2 == 0})
            await sender.sockets[0].send_str(typing)
            latencies.append([(when - sent) * 1000 for when in await clients.arrivals()])
        await clients.stop()
        await sender.close()
    if gateway is not None:
        gateway.terminate()
        gateway.wait(20)

    every = [value for batch in latencies for value in batch]
    print(f"connections open           {health['connections']}, opened in "
          f"{connect_seconds:.2f} s by {processes} client processes")
    if before is not None and after is not None:
        per = (after - before) * 1024 / (connections - 1)
        print(f"gateway RSS                {before:.1f} MiB warm -> {after:.1f} MiB "
              f"({per:.1f} KiB per connection)")
    print(f"broadcast to {connections - 1:>5} peers   "
          f"p50 {_percentile(every, 0.5):.1f} ms, p99 {_percentile(every, 0.99):.1f} ms, "
          f"last peer (median over {rounds} rounds) "
          f"{statistics.median(max(batch) for batch in latencies):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--url", help="an already running gateway (memory is then not measured)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(worker(args.url, args.first, args.count))
        return
    if args.connections < 2:
        parser.error("--connections must be at least 2 (a sender and a receiver)")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(run(args.connections, args.rounds, args.client_processes, args.url))


if __name__ == "__main__":
    main()
